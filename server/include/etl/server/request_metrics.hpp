// etl-server's own request counters: every request the API handler answers is counted by route
// pattern, method and status, and its duration observed, for /metrics.
//
// The route label is the pattern a path matched (`/extractor/tasks/{id}`), never the raw path,
// and unknown paths and methods share one value each ("other"), so a client sending random
// paths cannot grow the number of series. Requests the HTTP layer refuses before the handler
// (413, 431, malformed) are not counted here.
#pragma once

#include <chrono>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "etl/metrics/registry.hpp"
#include "etl/server/http_server.hpp"

namespace etl {

// The route pattern of a request path (a trailing slash ignored): "/", "/healthz", "/readyz",
// "/metrics", "/extractor/trigger-task", "/extractor/tasks", "/extractor/tasks/{id}",
// "/extractor/tasks/{id}/cancel", a dashboard file's own path (a fixed set, so the view may
// point into `path`), or "other".
std::string_view route_pattern(std::string_view path) noexcept;

// The method as a label value: the usual HTTP methods as they are, anything else "other".
std::string_view method_label(std::string_view method) noexcept;

class request_metrics {
 public:
  // Declares etl_http_requests_total and etl_http_request_duration_seconds in `registry`.
  explicit request_metrics(metrics_registry& registry);

  // Counts one answered request under its route pattern, method label and status, and
  // observes its duration. Thread-safe; never fails.
  void record(std::string_view method, std::string_view path, unsigned status,
              std::chrono::steady_clock::duration took);

  // Counts one answer given before any route (http_server_options::on_refused): a request that
  // could not be read whole, or a connection over the cap. Thread-safe; never fails.
  void record_refused(unsigned status);

 private:
  metric_vec<counter>& requests_;
  metric_vec<counter>& refused_;
  metric_vec<histogram>& durations_;
};

// Runs `inner` on the request and records it in `metrics`; a handler that throws is recorded
// as a 500 (what the HTTP server answers then) and the exception goes on.
net::awaitable<server_reply> handle_counted(const request_handler& inner, request_metrics& metrics,
                                            server_request req);

}  // namespace etl
