// GET /readyz: whether Redis and Postgres answer. Both are asked at once (PING, SELECT 1), on
// their own thread pools, each given `timeout`; the event loop only waits on timers.
//
// A check that outlives its timeout is reported "timeout" but keeps running on its pool thread
// (a blocking client cannot be interrupted). Requests that arrive meanwhile share it instead of
// starting another, so a hung store ties up at most one thread of its pool for readiness.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "etl/db/db_pool.hpp"
#include "etl/queue/job_queue.hpp"
#include "etl/server/http_server.hpp"

namespace etl {

class readiness {
 public:
  readiness(db_pool& db, job_queue& queue, std::chrono::milliseconds timeout);
  ~readiness();
  readiness(const readiness&) = delete;
  readiness& operator=(const readiness&) = delete;

  // 200 {"status":"ready","checks":{"redis":"ok","postgres":"ok"}}, or 503 with
  // "status":"not_ready", each check "ok", "failed" or "timeout", and "error"/"detail" naming
  // what failed. Answers within about `timeout`.
  net::awaitable<server_reply> handle();

  struct check_run;  // one run of one check, shared by the requests waiting for it

 private:
  // The running check of Redis (or Postgres), or a new one started on `ex`.
  std::shared_ptr<check_run> current_or_start(bool redis, const net::any_io_executor& ex);

  db_pool& db_;
  job_queue& queue_;
  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::shared_ptr<check_run> redis_run_;
  std::shared_ptr<check_run> postgres_run_;
};

}  // namespace etl
