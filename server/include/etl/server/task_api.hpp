// The routes of etl-server's HTTP API (docs/api.md): trigger a task, read one, list
// them, cancel one, health and readiness, the dashboard, behind the API token when one is set.
// Each handler validates its input and answers a JSON error that says what to fix.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "etl/db/tasks_repository.hpp"
#include "etl/pipelines/spec.hpp"
#include "etl/queue/job_queue.hpp"
#include "etl/server/api_auth.hpp"
#include "etl/server/api_route.hpp"
#include "etl/server/http_server.hpp"
#include "etl/server/metrics_api.hpp"
#include "etl/server/readiness.hpp"
#include "etl/server/task_cache.hpp"

namespace etl {

class scheduler;

struct task_api_options {
  const api_auth* auth = nullptr;  // null: no token required
  readiness* ready = nullptr;      // answers GET /readyz (404 without it)
  task_cache* cache = nullptr;     // keeps settled tasks' JSON (null: every read asks Postgres)
  metrics_endpoint* metrics = nullptr;  // answers GET /metrics (404 without it)
  std::chrono::milliseconds idempotency_retention = std::chrono::hours(24);
  // A test's failpoint (ETL_TEST_FAILPOINT): "trigger.after_insert" exits the process right
  // after a trigger's task is inserted, before its plan job is enqueued.
  std::string failpoint;
  // The pipelines GET /extractor/pipelines lists; null: none.
  const std::vector<pipeline_spec>* pipelines = nullptr;
  scheduler* schedules = nullptr;  // answers GET /extractor/schedules (404 without it)
};

class task_api {
 public:
  task_api(tasks_repository& tasks, job_queue& queue, task_api_options opts = {})
      : tasks_(tasks), queue_(queue), opts_(opts) {}

  // Routes one request (route_request: 401 without the token, 404, 405 with `Allow`, 400 for
  // bad parameters) and runs the route.
  net::awaitable<server_reply> handle(server_request req);

  // Starts a task of `pipeline` with its default parameters under `idempotency_key`, as a
  // trigger does (the scheduler's runs): 202 with the task, 200 for the key's task already
  // started, else an error reply.
  net::awaitable<server_reply> start_with_defaults(std::string pipeline,
                                                   std::string idempotency_key);

 private:
  net::awaitable<server_reply> trigger(trigger_params params);
  net::awaitable<server_reply> get_task(std::string_view id);
  // Cancels a queued or running task (remaining batches are skipped; a finished task is left as
  // it is) and answers the task as it is now.
  net::awaitable<server_reply> cancel_task(std::string_view id);
  // GET /extractor/pipelines (`name` empty) or /extractor/pipelines/{name}.
  server_reply pipelines_reply(std::string_view name) const;
  // The spec named `name`, or null.
  const pipeline_spec* find_pipeline(std::string_view name) const;
  // 404 pipeline_not_found, listing the known pipelines.
  server_reply no_such_pipeline(std::string_view name) const;

  tasks_repository& tasks_;
  job_queue& queue_;
  task_api_options opts_;
};

}  // namespace etl
