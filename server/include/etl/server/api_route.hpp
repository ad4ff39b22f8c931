// Which route a request takes and its validated parameters, decided without any store: the
// API token, the path and method, the task id, the trigger's and the list's parameters.
// task_api::handle runs the route it returns; the request fuzzer (tests/fuzz) checks every
// outcome. A request that cannot be served gets its 4xx JSON reply here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include <boost/json/object.hpp>

#include "etl/server/api_auth.hpp"
#include "etl/server/server_message.hpp"
#include "etl/server/task_list_query.hpp"

namespace etl {

enum class route_kind {
  health,       // GET /healthz
  ready,        // GET /readyz
  metrics,      // GET /metrics
  dashboard,    // GET / and the dashboard's files
  trigger,      // GET or POST /extractor/trigger-task
  list_tasks,   // GET /extractor/tasks
  get_task,     // GET /extractor/tasks/{id}
  cancel_task,  // POST /extractor/tasks/{id}/cancel
  rejected,     // GET /extractor/tasks/{id}/rejected
  pipelines,    // GET /extractor/pipelines and /extractor/pipelines/{name}
  schedules,    // GET /extractor/schedules
};

// An Idempotency-Key is 1 to this many bytes of printable ASCII (0x20 to 0x7e).
inline constexpr std::size_t max_idempotency_key_bytes = 200;

// A trigger's request as sent: which pipeline, and its parameters, not yet checked against the
// spec (task_api does that, with the specs at hand).
struct trigger_params {
  std::string pipeline = "animals";            // a valid pipeline name (is_pipeline_name)
  boost::json::object query_params;            // name -> the query string's text
  boost::json::object body_params;             // name -> the JSON body's value
  std::optional<std::string> idempotency_key;  // valid when set
};

struct api_route {
  route_kind kind = route_kind::health;
  std::string path;               // dashboard: the file's path (trailing slash removed)
  std::string pipeline;           // pipelines: the name asked for, empty for the list
  std::string task_id;            // get_task, cancel_task, rejected: a canonical UUID (lower case)
  trigger_params trigger;         // trigger
  task_list_params list;          // list_tasks
  rejected_list_params rejected;  // rejected
};

struct route_options {
  const api_auth* auth = nullptr;  // null: no token required
  bool ready = false;              // GET /readyz is served (else 404)
  bool metrics = false;            // GET /metrics is served (else 404)
};

// The route for `req`, or the reply that ends it: 401 without the token (api_auth), 404 for an
// unknown path, 405 with `Allow` for a known path asked with another method, 400 naming the bad
// task id, query parameter, body field or Idempotency-Key. A trigger's pipeline parameters are
// only collected here: the query's `pipeline` and every other name as a parameter; the body's
// `pipeline`, its `params` object, and `audit_mode` (the animals parameter, also accepted at the
// top for callers that predate pipelines).
std::variant<api_route, server_reply> route_request(const server_request& req,
                                                    const route_options& opts);

// Why `key` cannot be an Idempotency-Key (empty, too long, a byte that is not printable
// ASCII), or nothing when it can.
std::optional<std::string> idempotency_key_problem(std::string_view key);

}  // namespace etl
