#include "etl/server/task_api.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "etl/core/error.hpp"
#include "etl/server/dashboard.hpp"
#include "etl/server/task_json.hpp"
#include "etl/server/task_list.hpp"

namespace etl {
namespace {

server_reply json_reply(unsigned status, const boost::json::value& v) {
  return server_reply{status, "application/json", boost::json::serialize(v), {}};
}

std::optional<bool> parse_bool_text(std::string_view s) {
  if (s == "true" || s == "1" || s == "yes" || s == "on")
    return true;
  if (s == "false" || s == "0" || s == "no" || s == "off" || s.empty())
    return false;
  return std::nullopt;
}

// The trigger's parameters, from the query string and the JSON body. Fails with the 400 reply
// that names the bad parameter.
struct trigger_params {
  bool audit_mode = false;
};

std::variant<trigger_params, server_reply> read_trigger_params(const server_request& req) {
  trigger_params p;
  std::string_view q = req.query;
  while (!q.empty()) {
    const auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty())
      continue;
    const auto eq = pair.find('=');
    const auto name = pair.substr(0, eq);
    const auto value =
        eq == std::string_view::npos ? std::string_view{"true"} : pair.substr(eq + 1);
    if (name != "audit_mode") {
      return json_error(
          400, "unknown_parameter",
          "unknown query parameter '" + std::string(name) + "'; the only one is audit_mode");
    }
    auto b = parse_bool_text(value);
    if (!b) {
      return json_error(400, "invalid_parameter",
                        "audit_mode must be true or false, got '" + std::string(value) + "'");
    }
    p.audit_mode = *b;
  }
  if (!req.body.empty() && req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body, ec);
    if (ec)
      return json_error(400, "malformed_json", "the body is not JSON: " + ec.message());
    if (!body.is_object())
      return json_error(400, "invalid_body", "the body must be a JSON object");
    for (const auto& [key, value] : body.as_object()) {
      if (key != "audit_mode") {
        return json_error(400, "unknown_parameter",
                          "unknown field '" + std::string(key) + "'; the only one is audit_mode");
      }
      if (!value.is_bool())
        return json_error(400, "invalid_parameter", "audit_mode must be a boolean");
      p.audit_mode = value.as_bool();
    }
  }
  return p;
}

// Built outside the coroutines: GCC 12 miscompiles braced lists of string literals inside them.
job_fields plan_job_fields(const std::string& task_id, bool audit) {
  return {{"type", "plan"}, {"task", task_id}, {"audit", audit ? "1" : "0"}};
}

boost::json::value trigger_request_json(bool audit) {
  return {{"audit_mode", audit}};
}

server_reply accepted_reply(const task& t, bool existed) {
  boost::json::object o{{"task_id", t.id},
                        {"status", to_string(t.status)},
                        {"status_url", "/extractor/tasks/" + t.id}};
  auto reply = json_reply(existed ? 200 : 202, o);
  reply.headers.emplace_back("Location", "/extractor/tasks/" + t.id);
  return reply;
}

server_reply key_conflict_reply(const task& t) {
  return json_error(409, "idempotency_key_conflict",
                    "this Idempotency-Key was used for task " + t.id + " with other parameters (" +
                        boost::json::serialize(t.request) +
                        "); repeat those parameters or use a new key");
}

server_reply health_reply() {
  return json_reply(200, {{"status", "ok"}});
}

}  // namespace

net::awaitable<server_reply> task_api::handle(server_request req) {
  std::string_view path = req.path;
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);

  if (opts_.auth) {
    if (auto denied = opts_.auth->check(req, path))
      co_return std::move(*denied);
  }
  if (path == "/healthz") {
    if (req.method != "GET")
      co_return method_not_allowed("GET");
    co_return health_reply();
  }
  if (path == "/readyz" && opts_.ready) {
    if (req.method != "GET")
      co_return method_not_allowed("GET");
    co_return co_await opts_.ready->handle();
  }
  if (is_dashboard_path(path)) {
    if (req.method != "GET")
      co_return method_not_allowed("GET");
    co_return dashboard_reply(path);
  }
  if (path == "/metrics" && opts_.metrics) {
    if (req.method != "GET")
      co_return method_not_allowed("GET");
    co_return co_await opts_.metrics->handle();
  }
  if (path == "/extractor/trigger-task") {
    if (req.method != "GET" && req.method != "POST")
      co_return method_not_allowed("GET, POST");
    co_return co_await trigger(req);
  }
  if (path == "/extractor/tasks") {
    if (req.method != "GET")
      co_return method_not_allowed("GET");
    co_return co_await list_tasks_reply(tasks_, std::move(req.query));
  }
  constexpr std::string_view tasks_prefix = "/extractor/tasks/";
  constexpr std::string_view cancel_suffix = "/cancel";
  if (path.starts_with(tasks_prefix) && path.ends_with(cancel_suffix)) {
    if (req.method != "POST")
      co_return method_not_allowed("POST");
    auto id = path.substr(tasks_prefix.size());
    id.remove_suffix(cancel_suffix.size());
    co_return co_await cancel_task(id);
  }
  if (path.starts_with(tasks_prefix)) {
    if (req.method != "GET")
      co_return method_not_allowed("GET");
    co_return co_await get_task(path.substr(tasks_prefix.size()));
  }
  co_return json_error(404, "not_found", "no route for " + std::string(req.path));
}

net::awaitable<server_reply> task_api::trigger(const server_request& req) {
  auto params = read_trigger_params(req);
  if (auto* bad = std::get_if<server_reply>(&params))
    co_return std::move(*bad);
  const bool audit = std::get<trigger_params>(params).audit_mode;

  std::optional<std::string> key;
  if (auto k = req.header("idempotency-key"); !k.empty())
    key = std::string(k);
  auto created = co_await tasks_.create_task(audit, key, trigger_request_json(audit),
                                             opts_.idempotency_retention);
  if (!created) {
    if (created.error() == make_error_code(errc::invalid_argument)) {
      co_return json_error(400, "invalid_idempotency_key",
                           "Idempotency-Key must be 1 to 200 bytes");
    }
    spdlog::error("trigger: create task: {}", created.error().message());
    co_return json_error(503, "database_unavailable", "could not record the task; try again");
  }
  const auto& t = created->value;
  if (created->existed && !created->same_request)
    co_return key_conflict_reply(t);
  if (!created->existed) {
    auto id = co_await queue_.enqueue(plan_job_fields(t.id, audit));
    if (!id) {
      spdlog::error("trigger: enqueue plan of task {}: {}", t.id, id.error().message());
      (void)co_await tasks_.fail_task(t.id,
                                      "could not enqueue the plan job: " + id.error().message());
      // The client was told to try again: with its key, that must start a new task.
      if (key)
        (void)co_await tasks_.forget_idempotency_key(t.id);
      co_return json_error(503, "queue_unavailable", "could not queue the task; try again");
    }
    spdlog::info("task {} queued (audit_mode={})", t.id, audit);
  }
  co_return accepted_reply(t, created->existed);
}

net::awaitable<server_reply> task_api::get_task(std::string_view id) {
  if (!is_uuid(id)) {
    co_return json_error(400, "invalid_task_id",
                         "a task id is a UUID like 0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e");
  }
  std::string key(id);
  if (opts_.cache) {
    if (auto kept = opts_.cache->find(key))
      co_return server_reply{200, "application/json", *kept, {}};
  }
  auto t = co_await tasks_.get_task_snapshot(key);
  if (!t) {
    spdlog::error("get task {}: {}", id, t.error().message());
    co_return json_error(503, "database_unavailable", "could not read the task; try again");
  }
  if (!*t)
    co_return json_error(404, "task_not_found", "no task " + key);
  auto body = boost::json::serialize(task_to_json((*t)->value));
  if (opts_.cache && (*t)->settled)
    opts_.cache->put(key, std::make_shared<const std::string>(body));
  co_return server_reply{200, "application/json", std::move(body), {}};
}

}  // namespace etl

namespace etl {

net::awaitable<server_reply> task_api::cancel_task(std::string_view id) {
  if (!is_uuid(id)) {
    co_return json_error(400, "invalid_task_id",
                         "a task id is a UUID like 0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e");
  }
  auto status = co_await tasks_.cancel_task(std::string(id));
  if (!status) {
    if (status.error() == make_error_code(db_errc::not_found)) {
      co_return json_error(404, "task_not_found", "no task " + std::string(id));
    }
    spdlog::error("cancel task {}: {}", id, status.error().message());
    co_return json_error(503, "database_unavailable", "could not cancel the task; try again");
  }
  spdlog::info("task {}: cancel requested, now {}", id, to_string(*status));
  co_return co_await get_task(id);
}

}  // namespace etl
