#include "etl/server/request_metrics.hpp"

#include <array>
#include <string>

#include "etl/server/dashboard.hpp"

namespace etl {

std::string_view route_pattern(std::string_view path) noexcept {
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  for (std::string_view fixed :
       {"/", "/healthz", "/readyz", "/metrics", "/extractor/trigger-task", "/extractor/tasks"}) {
    if (path == fixed)
      return fixed;
  }
  if (is_dashboard_path(path))
    return path;
  constexpr std::string_view tasks_prefix = "/extractor/tasks/";
  if (path.starts_with(tasks_prefix) && path.size() > tasks_prefix.size()) {
    const auto rest = path.substr(tasks_prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos)
      return "/extractor/tasks/{id}";
    if (rest.substr(slash) == "/cancel" && slash > 0)
      return "/extractor/tasks/{id}/cancel";
    if (rest.substr(slash) == "/rejected" && slash > 0)
      return "/extractor/tasks/{id}/rejected";
  }
  return "other";
}

std::string_view method_label(std::string_view method) noexcept {
  static constexpr std::array<std::string_view, 7> known{"GET",    "POST",  "HEAD",   "PUT",
                                                         "DELETE", "PATCH", "OPTIONS"};
  for (auto m : known) {
    if (method == m)
      return m;
  }
  return "other";
}

request_metrics::request_metrics(metrics_registry& registry)
    : requests_(registry.counter_family("etl_http_requests_total",
                                        "HTTP requests etl-server answered, by route pattern, "
                                        "method and status.",
                                        {"route", "method", "status"})),
      refused_(registry.counter_family(
          "etl_http_refused_requests_total",
          "Requests etl-server answered before routing: 400 unreadable, 413 body too large, "
          "431 headers too large, 503 over the connection cap.",
          {"status"})),
      durations_(registry.histogram_family("etl_http_request_duration_seconds",
                                           "Time etl-server took to answer a request, from the "
                                           "whole request read to the reply built.",
                                           {"route", "method"}, default_duration_bounds())) {}

void request_metrics::record(std::string_view method, std::string_view path, unsigned status,
                             std::chrono::steady_clock::duration took) {
  const std::string route(route_pattern(path));
  const std::string m(method_label(method));
  requests_.with({route, m, std::to_string(status)}).inc();
  durations_.with({route, m}).observe(std::chrono::duration<double>(took).count());
}

void request_metrics::record_refused(unsigned status) {
  refused_.with({std::to_string(status)}).inc();
}

net::awaitable<server_reply> handle_counted(const request_handler& inner, request_metrics& metrics,
                                            server_request req) {
  const auto start = std::chrono::steady_clock::now();
  std::string method = req.method;
  std::string path = req.path;
  try {
    auto reply = co_await inner(std::move(req));
    metrics.record(method, path, reply.status, std::chrono::steady_clock::now() - start);
    co_return reply;
  } catch (...) {
    metrics.record(method, path, 500, std::chrono::steady_clock::now() - start);
    throw;
  }
}

}  // namespace etl
