// The routes of etl-server's HTTP API (DESIGN.md, "HTTP API"): trigger a task, read one,
// cancel one, health. Each handler validates its input and answers a JSON error that says what to
// fix.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "etl/db/tasks_repository.hpp"
#include "etl/queue/job_queue.hpp"
#include "etl/server/http_server.hpp"

namespace etl {

class task_api {
 public:
  task_api(tasks_repository& tasks, job_queue& queue) : tasks_(tasks), queue_(queue) {}

  // Routes one request; unknown paths answer 404, known paths with another method 405.
  net::awaitable<server_reply> handle(server_request req);

 private:
  net::awaitable<server_reply> trigger(const server_request& req);
  net::awaitable<server_reply> get_task(std::string_view id);
  // Cancels a queued or running task (remaining batches are skipped; a finished task is left as
  // it is) and answers the task as it is now.
  net::awaitable<server_reply> cancel_task(std::string_view id);

  tasks_repository& tasks_;
  job_queue& queue_;
};

}  // namespace etl
