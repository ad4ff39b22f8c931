#include "etl/server/api_route.hpp"

#include <boost/json.hpp>

#include "etl/core/uuid.hpp"
#include "etl/pipelines/names.hpp"
#include "etl/server/dashboard.hpp"

namespace etl {
namespace {

constexpr std::string_view tasks_prefix = "/extractor/tasks/";
constexpr std::string_view cancel_suffix = "/cancel";
constexpr std::string_view rejected_suffix = "/rejected";
constexpr std::string_view pipelines_prefix = "/extractor/pipelines/";

// The trigger's pipeline and parameters, from the query string and the JSON body (see
// route_request). Fails with the 400 reply that names the bad parameter or field.
std::variant<trigger_params, server_reply> read_trigger(const server_request& req) {
  trigger_params t;
  std::string_view q = req.query;
  while (!q.empty()) {
    const auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty())
      continue;
    const auto eq = pair.find('=');
    const auto name = pair.substr(0, eq);
    // A bare name is a flag: `?audit_mode` means audit_mode=true.
    const auto value =
        eq == std::string_view::npos ? std::string_view{"true"} : pair.substr(eq + 1);
    if (name == "pipeline")
      t.pipeline = std::string(value);
    else
      t.query_params[name] = value;
  }
  if (!req.body.empty() && req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body, ec);
    if (ec)
      return json_error(400, "malformed_json", "the body is not JSON: " + ec.message());
    if (!body.is_object())
      return json_error(400, "invalid_body", "the body must be a JSON object");
    for (const auto& [key, value] : body.as_object()) {
      if (key == "pipeline") {
        if (!value.is_string())
          return json_error(400, "invalid_parameter", "pipeline must be a string");
        t.pipeline = std::string(value.get_string());
      } else if (key == "params") {
        if (!value.is_object())
          return json_error(400, "invalid_parameter", "params must be a JSON object");
        for (const auto& [name, v] : value.get_object())
          t.body_params[name] = v;
      } else if (key == "audit_mode") {
        t.body_params[key] = value;
      } else {
        return json_error(400, "unknown_parameter",
                          "unknown field '" + std::string(key) +
                              "'; the body takes pipeline, params and audit_mode");
      }
    }
  }
  if (!is_pipeline_name(t.pipeline)) {
    return json_error(
        400, "invalid_parameter",
        "pipeline must be a pipeline's name ([a-z][a-z0-9-]*), got '" + t.pipeline + "'");
  }
  return t;
}

std::variant<api_route, server_reply> trigger_route(const server_request& req) {
  auto trigger = read_trigger(req);
  if (auto* bad = std::get_if<server_reply>(&trigger))
    return std::move(*bad);
  api_route r{.kind = route_kind::trigger};
  r.trigger = std::move(std::get<trigger_params>(trigger));
  std::size_t keys = 0;
  for (const auto& [name, value] : req.headers) {
    if (name == "idempotency-key")
      ++keys;
  }
  if (keys > 1) {
    return json_error(400, "invalid_idempotency_key",
                      "send one Idempotency-Key header, not " + std::to_string(keys));
  }
  if (keys == 1) {
    const auto key = req.header("idempotency-key");
    if (auto problem = idempotency_key_problem(key))
      return json_error(400, "invalid_idempotency_key", *problem);
    r.trigger.idempotency_key = std::string(key);
  }
  return r;
}

// GET or POST on /extractor/tasks/{id}[/cancel]: the id must be a UUID; it is passed on in
// lower case, the form Postgres prints and the cache keys on.
std::variant<api_route, server_reply> task_route(route_kind kind, std::string_view id) {
  if (!is_uuid(id)) {
    return json_error(400, "invalid_task_id",
                      "a task id is a UUID like 0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e");
  }
  api_route r{.kind = kind};
  r.task_id.reserve(id.size());
  for (const char c : id)
    r.task_id.push_back(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
  return r;
}

}  // namespace

std::optional<std::string> idempotency_key_problem(std::string_view key) {
  const std::string rule = "Idempotency-Key must be 1 to " +
                           std::to_string(max_idempotency_key_bytes) +
                           " bytes of printable ASCII (0x20 to 0x7e)";
  if (key.empty())
    return rule + ", got an empty value";
  if (key.size() > max_idempotency_key_bytes)
    return rule + ", got " + std::to_string(key.size()) + " bytes";
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c > 0x7e)
      return rule + ", got byte " + std::to_string(c) + " at offset " + std::to_string(i);
  }
  return std::nullopt;
}

std::variant<api_route, server_reply> route_request(const server_request& req,
                                                    const route_options& opts) {
  std::string_view path = req.path;
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);

  if (opts.auth) {
    if (auto denied = opts.auth->check(req, path))
      return std::move(*denied);
  }
  const bool get = req.method == "GET";
  if (path == "/healthz") {
    if (!get)
      return method_not_allowed("GET");
    return api_route{.kind = route_kind::health};
  }
  if (path == "/readyz" && opts.ready) {
    if (!get)
      return method_not_allowed("GET");
    return api_route{.kind = route_kind::ready};
  }
  if (is_dashboard_path(path)) {
    if (!get)
      return method_not_allowed("GET");
    return api_route{.kind = route_kind::dashboard, .path = std::string(path)};
  }
  if (path == "/metrics" && opts.metrics) {
    if (!get)
      return method_not_allowed("GET");
    return api_route{.kind = route_kind::metrics};
  }
  if (path == "/extractor/trigger-task") {
    if (!get && req.method != "POST")
      return method_not_allowed("GET, POST");
    return trigger_route(req);
  }
  if (path == "/extractor/schedules") {
    if (!get)
      return method_not_allowed("GET");
    return api_route{.kind = route_kind::schedules};
  }
  if (path == "/extractor/pipelines" || path.starts_with(pipelines_prefix)) {
    if (!get)
      return method_not_allowed("GET");
    api_route r{.kind = route_kind::pipelines};
    if (path.size() > pipelines_prefix.size()) {
      const auto name = path.substr(pipelines_prefix.size());
      if (!is_pipeline_name(name)) {
        return json_error(400, "invalid_pipeline_name",
                          "a pipeline name is [a-z][a-z0-9-]*, at most 63 bytes, like animals");
      }
      r.pipeline = std::string(name);
    }
    return r;
  }
  if (path == "/extractor/tasks") {
    if (!get)
      return method_not_allowed("GET");
    auto params = read_task_list_params(req.query);
    if (auto* bad = std::get_if<server_reply>(&params))
      return std::move(*bad);
    return api_route{.kind = route_kind::list_tasks,
                     .list = std::move(std::get<task_list_params>(params))};
  }
  // The size check: "/extractor/tasks/cancel" shares its '/' between prefix and suffix.
  if (path.starts_with(tasks_prefix) && path.ends_with(cancel_suffix) &&
      path.size() >= tasks_prefix.size() + cancel_suffix.size()) {
    if (req.method != "POST")
      return method_not_allowed("POST");
    auto id = path.substr(tasks_prefix.size());
    id.remove_suffix(cancel_suffix.size());
    return task_route(route_kind::cancel_task, id);
  }
  if (path.starts_with(tasks_prefix) && path.ends_with(rejected_suffix) &&
      path.size() >= tasks_prefix.size() + rejected_suffix.size()) {
    if (!get)
      return method_not_allowed("GET");
    auto id = path.substr(tasks_prefix.size());
    id.remove_suffix(rejected_suffix.size());
    auto params = read_rejected_list_params(req.query);
    if (auto* bad = std::get_if<server_reply>(&params))
      return std::move(*bad);
    auto routed = task_route(route_kind::rejected, id);
    if (auto* r = std::get_if<api_route>(&routed))
      r->rejected = std::get<rejected_list_params>(params);
    return routed;
  }
  if (path.starts_with(tasks_prefix)) {
    if (!get)
      return method_not_allowed("GET");
    return task_route(route_kind::get_task, path.substr(tasks_prefix.size()));
  }
  return json_error(404, "not_found", "no route for " + req.path);
}

}  // namespace etl
