#include "etl/server/task_api.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "etl/core/error.hpp"
#include "etl/pipelines/params.hpp"
#include "etl/server/dashboard.hpp"
#include "etl/server/plan_outbox.hpp"
#include "etl/server/rejected_list.hpp"
#include "etl/server/task_json.hpp"
#include "etl/server/task_list.hpp"

namespace etl {
namespace {

server_reply json_reply(unsigned status, const boost::json::value& v) {
  return server_reply{status, "application/json", boost::json::serialize(v), {}};
}

// What the trigger asked for, as the task keeps it (an Idempotency-Key's repeat must match it).
boost::json::value trigger_request_json(const std::string& pipeline,
                                        const boost::json::object& params) {
  return {{"pipeline", pipeline}, {"params", params}};
}

// The parameters of a trigger checked against its pipeline's spec: the query's, then the
// body's, which win.
std::variant<boost::json::object, server_reply> checked_params(const pipeline_spec& spec,
                                                               const trigger_params& t) {
  auto query = check_params(spec, t.query_params, true);
  if (!query)
    return json_error(400, query.error().code, query.error().detail);
  auto body = check_params(spec, t.body_params, false);
  if (!body)
    return json_error(400, body.error().code, body.error().detail);
  for (const auto& [name, value] : t.body_params)
    (*query)[name] = body->at(name);
  if (auto bad = check_windows(spec, *query))
    return json_error(400, bad->code, bad->detail);
  return std::move(*query);
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

boost::json::value param_json(const param_value& v) {
  return std::visit([](const auto& x) { return boost::json::value(x); }, v);
}

// A pipeline as the API shows it: its name, what it does, the parameters a trigger may set.
boost::json::object pipeline_json(const pipeline_spec& p) {
  boost::json::array params;
  for (const auto& param : p.params) {
    boost::json::object o{
        {"name", param.name}, {"type", to_string(param.type)}, {"description", param.description}};
    o["default"] = param.default_value ? param_json(*param.default_value) : nullptr;
    if (param.random_hex > 0)  // the default is drawn per task
      o["default"] = "random: " + std::to_string(param.random_hex) + " hex digits";
    if (param.min)
      o["min"] = *param.min;
    if (param.max)
      o["max"] = *param.max;
    params.push_back(std::move(o));
  }
  return {{"name", p.name},
          {"description", p.description},
          {"parameters", std::move(params)},
          {"url", "/extractor/pipelines/" + p.name}};
}

server_reply health_reply() {
  return json_reply(200, {{"status", "ok"}});
}

}  // namespace

net::awaitable<server_reply> task_api::handle(server_request req) {
  auto routed = route_request(
      req,
      {.auth = opts_.auth, .ready = opts_.ready != nullptr, .metrics = opts_.metrics != nullptr});
  if (auto* reply = std::get_if<server_reply>(&routed))
    co_return std::move(*reply);
  auto& route = std::get<api_route>(routed);
  switch (route.kind) {
    case route_kind::health:
      co_return health_reply();
    case route_kind::ready:
      co_return co_await opts_.ready->handle();
    case route_kind::metrics:
      co_return co_await opts_.metrics->handle();
    case route_kind::dashboard:
      co_return dashboard_reply(route.path);
    case route_kind::trigger:
      co_return co_await trigger(std::move(route.trigger));
    case route_kind::list_tasks:
      co_return co_await list_tasks_reply(tasks_, std::move(route.list));
    case route_kind::get_task:
      co_return co_await get_task(route.task_id);
    case route_kind::cancel_task:
      co_return co_await cancel_task(route.task_id);
    case route_kind::rejected:
      co_return co_await rejected_list_reply(tasks_, std::move(route.task_id), route.rejected);
    case route_kind::pipelines:
      co_return pipelines_reply(route.pipeline);
  }
  co_return json_error(404, "not_found", "no route for " + req.path);
}

const pipeline_spec* task_api::find_pipeline(std::string_view name) const {
  if (opts_.pipelines == nullptr)
    return nullptr;
  for (const auto& p : *opts_.pipelines) {
    if (p.name == name)
      return &p;
  }
  return nullptr;
}

server_reply task_api::no_such_pipeline(std::string_view name) const {
  std::string known;
  if (opts_.pipelines) {
    for (const auto& p : *opts_.pipelines)
      known += (known.empty() ? "" : ", ") + p.name;
  }
  return json_error(404, "pipeline_not_found",
                    "no pipeline " + std::string(name) + " (known: " + known + ")");
}

net::awaitable<server_reply> task_api::trigger(trigger_params params) {
  const auto* spec = find_pipeline(params.pipeline);
  if (spec == nullptr)
    co_return no_such_pipeline(params.pipeline);
  auto checked = checked_params(*spec, params);
  if (auto* bad = std::get_if<server_reply>(&checked))
    co_return std::move(*bad);
  auto& values = std::get<boost::json::object>(checked);
  // audit_mode is a column of its own (etl-verify and the dashboard read it) for the pipelines
  // that declare it.
  const auto* audit_value = values.if_contains("audit_mode");
  const bool audit = audit_value != nullptr && audit_value->is_bool() && audit_value->get_bool();
  const auto& key = params.idempotency_key;
  auto request = trigger_request_json(spec->name, values);
  auto created = co_await tasks_.create_task(audit, key, std::move(request),
                                             opts_.idempotency_retention, spec->name, values);
  if (!created) {
    if (created.error() == make_error_code(errc::invalid_argument)) {
      // route_request checked the key already; this is the repository's own check.
      co_return json_error(400, "invalid_idempotency_key",
                           idempotency_key_problem(key.value_or("")).value_or("invalid key"));
    }
    spdlog::error("trigger: create task: {}", created.error().message());
    co_return json_error(503, "database_unavailable", "could not record the task; try again");
  }
  const auto& t = created->value;
  if (created->existed && !created->same_request)
    co_return key_conflict_reply(t);
  if (!created->existed) {
    if (opts_.failpoint == "trigger.after_insert") {
      // For the outbox test: a server killed between the task's insert and its enqueue.
      spdlog::critical("failpoint trigger.after_insert: exiting with task {} unqueued", t.id);
      std::_Exit(86);
    }
    auto id = co_await enqueue_plan(tasks_, queue_, t.id, audit, t.pipeline);
    if (!id) {
      spdlog::error("trigger: enqueue plan of task {}: {}", t.id, id.error().message());
      (void)co_await tasks_.fail_task(t.id,
                                      "could not enqueue the plan job: " + id.error().message());
      // The client was told to try again: with its key, that must start a new task.
      if (key)
        (void)co_await tasks_.forget_idempotency_key(t.id);
      co_return json_error(503, "queue_unavailable", "could not queue the task; try again");
    }
    spdlog::info("task {} queued (pipeline {}, params {})", t.id, t.pipeline,
                 boost::json::serialize(t.params));
  }
  co_return accepted_reply(t, created->existed);
}

server_reply task_api::pipelines_reply(std::string_view name) const {
  static const std::vector<pipeline_spec> none;
  const auto& all = opts_.pipelines ? *opts_.pipelines : none;
  if (name.empty()) {
    boost::json::array list;
    for (const auto& p : all)
      list.push_back(pipeline_json(p));
    return json_reply(200, {{"pipelines", std::move(list)}});
  }
  if (const auto* p = find_pipeline(name))
    return json_reply(200, pipeline_json(*p));
  return no_such_pipeline(name);
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
