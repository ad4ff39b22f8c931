// What one worker process shares between its jobs: the settings, the pipelines' specs, the HTTP
// clients of the upstreams and of home, the Postgres repositories, the job queue and the
// counters published to /metrics. Built once per process, after the supervisor forked it.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include "etl/config/settings.hpp"
#include "etl/db/batch_ledger.hpp"
#include "etl/db/cursor_store.hpp"
#include "etl/db/db_pool.hpp"
#include "etl/db/tasks_repository.hpp"
#include "etl/http/client.hpp"
#include "etl/metrics/worker_metrics.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/spec.hpp"
#include "etl/queue/job_queue.hpp"
#include "etl/queue/rate_limiter.hpp"
#include "etl/worker/running_tasks.hpp"

namespace etl {

// Where a pipeline's records come from: the client of its upstream's origin, and the path its
// base URL puts before every request ("" or "/api").
struct upstream {
  http_client* client = nullptr;
  std::string base_path;
  // The secret of the source's `auth` (null without one), for fetch_rest_page.
  const source_credentials* credentials = nullptr;
  // Set when the source's `auth` variable was missing at start-up: every task of the pipeline
  // fails at once with this reason (it names the variable, never a value).
  std::string access_error;
};

class worker_context {
 public:
  // Throws on start-up errors: a bad URL in the settings or in a spec's base URL, a bad spec.
  // `pipelines` are the specs this worker runs (load_pipelines). `single_threaded`: `ex` runs on
  // one thread, so the HTTP clients may run requests in their callers' coroutines.
  worker_context(net::any_io_executor ex, settings cfg, std::vector<pipeline_spec> pipelines,
                 job_queue_options queue_opts = {}, bool single_threaded = false);

  const settings& cfg() const noexcept { return cfg_; }
  net::any_io_executor executor() const { return ex_; }
  http_client& source() noexcept { return source_; }
  // The spec named `name`, or null when this worker does not know it.
  const pipeline_spec* pipeline(std::string_view name) const noexcept;
  // The upstream of `spec` (a spec this context was built with).
  upstream upstream_of(const pipeline_spec& spec);
  // The client of home, with a pool of its own (see the constructor).
  http_client& home() noexcept { return *home_; }
  const std::string& home_target() const noexcept { return home_target_; }
  db_pool& db() noexcept { return db_; }
  tasks_repository& tasks() noexcept { return tasks_; }
  batch_ledger& ledger() noexcept { return ledger_; }
  cursor_store& cursors() noexcept { return cursors_; }
  job_queue& queue() noexcept { return queue_; }
  worker_counters& counters() noexcept { return counters_; }
  // The tasks seen running a moment ago: a batch job's status check (see running_tasks.hpp).
  running_tasks& running() noexcept { return running_; }
  // A thread for file writes (audit dumps), so that fsync never blocks an event loop.
  net::thread_pool::executor_type files() noexcept { return files_.get_executor(); }
  // The current totals of the counters and of the HTTP clients, as the metrics hash's fields.
  metric_fields metric_totals() const;

 private:
  net::any_io_executor ex_;
  settings cfg_;
  std::vector<pipeline_spec> pipelines_;
  http_client source_;
  // Before the clients that call them: a limiter outlives every request it admits.
  std::map<std::string, std::unique_ptr<redis_rate_limiter>> limiters_;     // by origin
  std::map<std::string, std::unique_ptr<source_credentials>> credentials_;  // by pipeline name
  // By origin, plus what makes a client's requests differ: its auth and its rate limit.
  std::map<std::string, std::unique_ptr<http_client>> upstreams_;
  std::map<std::string, upstream> upstream_of_;  // by pipeline name
  std::unique_ptr<http_client> home_;
  std::string home_target_;
  db_pool db_;
  tasks_repository tasks_;
  batch_ledger ledger_;
  cursor_store cursors_;
  job_queue queue_;
  worker_counters counters_;
  running_tasks running_;
  net::thread_pool files_{1};
};

}  // namespace etl
