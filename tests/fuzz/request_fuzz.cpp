// The request fuzzer's harness: bytes as a client would send them, through the server's own
// parser with its real limits (and with tiny ones, to reach 413 and 431), then routing and
// parameter validation, with and without an API token. Every outcome is checked; a broken
// invariant aborts, which libFuzzer (and the corpus replay) report as a crash:
// - a reply to a bad request is a 4xx from the known set, JSON with string "error" and "detail";
// - a task id that reaches a handler is a canonical UUID (lower case);
// - the parameters a handler gets are within their documented bounds.
// Pipelined requests in one input are parsed one after the other, as a kept-alive connection
// reads them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "etl/core/uuid.hpp"
#include "etl/pipelines/names.hpp"
#include "etl/server/api_route.hpp"
#include "etl/server/dashboard.hpp"
#include "etl/server/request_parsing.hpp"

namespace {

using namespace etl;

[[noreturn]] void violated(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "request fuzzer: invariant broken: %.*s: %.*s\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

bool has_header(const server_reply& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (h.first == name)
      return true;
  }
  return false;
}

// A 4xx JSON error of one of the statuses `allowed` lists (a string such as "400 401").
void check_error_reply(const server_reply& r, std::string_view allowed, std::string_view where) {
  const auto status = std::to_string(r.status);
  if (r.status < 400 || r.status > 499 || allowed.find(status) == std::string_view::npos)
    violated(where, "status " + status + " not in " + std::string(allowed));
  if (r.content_type != "application/json")
    violated(where, "content type " + r.content_type);
  boost::system::error_code ec;
  const auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object())
    violated(where, "body is not a JSON object: " + r.body);
  const auto& o = v.as_object();
  const auto* error = o.if_contains("error");
  const auto* detail = o.if_contains("detail");
  if (!error || !error->is_string() || error->as_string().empty() || !detail ||
      !detail->is_string() || detail->as_string().empty())
    violated(where, "no string error and detail: " + r.body);
  if (r.status == 405 && !has_header(r, "Allow"))
    violated(where, "405 without Allow");
  if (r.status == 401 && !has_header(r, "WWW-Authenticate"))
    violated(where, "401 without WWW-Authenticate");
}

void check_route(const api_route& r, const server_request& req) {
  const bool get = req.method == "GET";
  switch (r.kind) {
    case route_kind::health:
    case route_kind::ready:
    case route_kind::metrics:
    case route_kind::list_tasks:
    case route_kind::get_task:
    case route_kind::rejected:
    case route_kind::pipelines:
    case route_kind::schedules:
      if (!get)
        violated("route", "a GET route reached with " + req.method);
      break;
    case route_kind::dashboard:
      if (!get)
        violated("route", "the dashboard reached with " + req.method);
      if (dashboard_reply(r.path).status != 200)
        violated("route", "dashboard route to a missing file " + r.path);
      break;
    case route_kind::trigger:
      if (!get && req.method != "POST")
        violated("route", "trigger reached with " + req.method);
      break;
    case route_kind::cancel_task:
      if (req.method != "POST")
        violated("route", "cancel reached with " + req.method);
      break;
  }
  if (r.kind == route_kind::get_task || r.kind == route_kind::cancel_task ||
      r.kind == route_kind::rejected) {
    if (!is_canonical_uuid(r.task_id))
      violated("route", "task id reached a handler: " + r.task_id);
  } else if (!r.task_id.empty()) {
    violated("route", "a task id on a route without one");
  }
  if (r.kind == route_kind::trigger && r.trigger.idempotency_key) {
    const auto& key = *r.trigger.idempotency_key;
    if (idempotency_key_problem(key) || key.empty() || key.size() > max_idempotency_key_bytes)
      violated("route", "a bad Idempotency-Key reached the trigger: " + key);
  }
  if (r.kind == route_kind::rejected) {
    if (r.rejected.limit < 1 || r.rejected.limit > max_task_list_limit || r.rejected.after < 0)
      violated("route", "rejected list limit " + std::to_string(r.rejected.limit) + " after " +
                            std::to_string(r.rejected.after));
  }
  if (r.kind == route_kind::pipelines) {
    if (!r.pipeline.empty() && !is_pipeline_name(r.pipeline))
      violated("route", "a bad pipeline name reached the handler: " + r.pipeline);
  } else if (!r.pipeline.empty()) {
    violated("route", "a pipeline name on a route without one");
  }
  if (r.kind == route_kind::list_tasks) {
    if (r.list.limit < 1 || r.list.limit > max_task_list_limit)
      violated("route", "list limit " + std::to_string(r.list.limit));
    if (r.list.after && !is_uuid(r.list.after->id))
      violated("route", "cursor id " + r.list.after->id);
  }
}

void route_and_check(const server_request& req, const route_options& opts) {
  const auto routed = route_request(req, opts);
  if (const auto* reply = std::get_if<server_reply>(&routed)) {
    check_error_reply(*reply, opts.auth ? "400 401 404 405" : "400 404 405", "route");
    if (reply->status == 401 && !opts.auth)
      violated("route", "401 without a token configured");
  } else {
    check_route(std::get<api_route>(routed), req);
  }
}

void parse_all(std::string_view bytes, const request_limits& limits) {
  static const api_auth no_token(std::nullopt);
  static const api_auth token(std::string("fuzz-token"));
  // At most a few pipelined requests per input, so that one input stays quick.
  for (int n = 0; n < 8 && !bytes.empty(); ++n) {
    auto parsed = parse_request_bytes(bytes, limits);
    if (const auto* reply = std::get_if<server_reply>(&parsed)) {
      check_error_reply(*reply, "400 413 431", "parse");
      return;  // the server answers and closes
    }
    if (std::holds_alternative<parse_incomplete>(parsed))
      return;
    auto& p = std::get<parsed_request>(parsed);
    if (p.consumed == 0 || p.consumed > bytes.size())
      violated("parse", "consumed " + std::to_string(p.consumed));
    if (p.request.body.size() > limits.max_body_bytes)
      violated("parse", "body above the limit");
    if (p.request.method.empty() || !p.request.target.starts_with(p.request.path))
      violated("parse", "method or path: " + p.request.target);
    if (p.version != 10 && p.version != 11)
      violated("parse", "version " + std::to_string(p.version));
    route_and_check(p.request, {.auth = nullptr, .ready = true, .metrics = true});
    route_and_check(p.request, {.auth = &token, .ready = true, .metrics = true});
    route_and_check(p.request, {.auth = &no_token, .ready = false, .metrics = false});
    if (!p.keep_alive)
      return;
    bytes.remove_prefix(p.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  parse_all(bytes, request_limits{});  // the server's defaults: 16 KiB of headers, 1 MiB body
  parse_all(bytes, request_limits{.max_header_bytes = 256, .max_body_bytes = 64});
  return 0;
}
