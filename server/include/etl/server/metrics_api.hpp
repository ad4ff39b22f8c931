// GET /metrics: one scrape shows the whole system, in the Prometheus text format. It gathers,
// at scrape time and in parallel:
// - etl-server's own request counters (request_metrics.hpp);
// - tasks by pipeline and status from Postgres (one grouped query);
// - the job queue from Redis: stream length, pending jobs, the oldest pending job's age and
//   idle time, dead letters;
// - the workers' counters, which every worker process adds to one Redis hash
//   (etl/metrics/worker_metrics.hpp).
//
// The scrape never waits long and never blocks the event loop: the reads run on the endpoint's
// own threads, and whatever has not answered within the timeout is left out, reported by
// etl_metrics_source_up{source} = 0, and logged with the reason. A source whose previous read
// is still running (a database hanging) is not asked again, so an outage cannot pile reads up.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "etl/db/tasks_repository.hpp"
#include "etl/metrics/registry.hpp"
#include "etl/queue/job_queue.hpp"
#include "etl/queue/redis_connection.hpp"
#include "etl/server/http_server.hpp"
#include "etl/server/request_metrics.hpp"

namespace etl {

struct metrics_endpoint_options {
  std::chrono::milliseconds timeout{2'000};  // the longest a scrape waits for Postgres and Redis
  // The pipelines etl_tasks is labelled with (the specs' names: a bounded set); tasks of another
  // pipeline (a spec since removed) count as pipeline="other". Empty: only "animals".
  std::vector<std::string> pipelines;
};

class metrics_endpoint {
 public:
  // `redis` is for reading the workers' hash (a connection of the endpoint's own). Connects
  // nothing yet.
  metrics_endpoint(tasks_repository& tasks, job_queue& queue, redis_options redis,
                   metrics_endpoint_options opts = {});
  // Waits for reads still running (bounded by the Redis and Postgres timeouts). Destroy it
  // before the io_context whose requests it served.
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  // Where the server records its requests (see handle_counted).
  request_metrics& requests() noexcept { return requests_; }

  // The scrape: 200 with the text format. Never fails; an unreachable source is left out as
  // described above.
  net::awaitable<server_reply> handle();

 private:
  struct scrape;
  void read_postgres(std::shared_ptr<scrape> s);
  void read_redis(std::shared_ptr<scrape> s);

  tasks_repository& tasks_;
  job_queue& queue_;
  redis_connection workers_conn_;
  metrics_endpoint_options opts_;
  metrics_registry registry_;
  request_metrics requests_;
  std::atomic<bool> postgres_busy_{false};
  std::atomic<bool> redis_busy_{false};
  net::thread_pool pool_{2};  // last: joined first, while everything it uses is alive
};

}  // namespace etl
