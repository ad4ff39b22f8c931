// etl-worker: the supervisor of the worker processes (see etl/worker/supervisor.hpp and
// etl/worker/worker_process.hpp).
#include <unistd.h>

#include "etl/config/option_types.hpp"
#include "etl/config/settings.hpp"
#include "etl/log/logging.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "etl/worker/supervisor.hpp"
#include "etl/worker/worker_process.hpp"

int main(int argc, char** argv) {
  using namespace etl;
  option_set options;
  add_common_options(options);
  add_client_options(options);
  options.add(
      int_option("ETL_JOBS", 4, 1, 256, "batch and plan jobs each worker process runs at once"));
  // One: a second thread on the same loop doubles the CPU a request costs (the threads wake and
  // lock for each other, bench/README.md) and buys no parallelism that a second process does not
  // give better; Postgres, Redis and files run on pools of their own.
  options.add(int_option("ETL_WORKER_THREADS", 1, 1, 64, "event loop threads per worker process"));
  options.add(duration_option("ETL_DRAIN_DEADLINE", std::chrono::seconds{25},
                              std::chrono::seconds{1}, std::chrono::hours{1},
                              "after SIGTERM, how long jobs in hand may take before exit"));
  options.add(duration_option("ETL_JOB_LEASE", std::chrono::seconds{10},
                              std::chrono::milliseconds{100}, std::chrono::minutes{10},
                              "a job whose worker stops renewing it is reclaimed after this"));
  options.add(int_option("ETL_MAX_DELIVERIES", 5, 1, 1000,
                         "deliveries of a failing job before it is dead-lettered"));
  const auto values = parse_or_exit(options, argc, argv,
                                    "Runs the ETL's worker processes: takes plan and batch jobs "
                                    "from Redis, moves animals from the source to home.");
  const auto cfg = load_settings_or_exit(values, "etl-worker");
  init_logging(cfg.log_format, cfg.log_level, "etl-worker");
  spdlog::info("etl-worker starting: {}", describe(cfg));
  auto pipelines = load_pipelines_at_start(cfg.pipelines_dir);
  if (!pipelines)
    return 2;

  worker_process_options wopts;
  wopts.jobs = static_cast<std::size_t>(values.get<std::int64_t>("ETL_JOBS"));
  wopts.threads = static_cast<std::size_t>(values.get<std::int64_t>("ETL_WORKER_THREADS"));
  wopts.drain_deadline = values.get<milliseconds>("ETL_DRAIN_DEADLINE");
  wopts.lease = values.get<milliseconds>("ETL_JOB_LEASE");
  wopts.max_deliveries = static_cast<int>(values.get<std::int64_t>("ETL_MAX_DELIVERIES"));
  wopts.pipelines = std::move(*pipelines);
  supervisor_options sopts;
  sopts.processes = cfg.worker_processes;
  sopts.drain_deadline = wopts.drain_deadline + std::chrono::seconds{5};
  return run_supervisor(sopts, [&](int slot) {
    init_logging(cfg.log_format, cfg.log_level, "etl-worker." + std::to_string(slot));
    return run_worker_process(cfg, wopts, slot);
  });
}
