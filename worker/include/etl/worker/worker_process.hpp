// One worker process: its event loop threads, its context (clients, database, queue) and its
// job runner. SIGTERM or SIGINT drains it: no new job, the jobs in hand finish within the
// drain deadline, then it exits.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "etl/config/settings.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

struct worker_process_options {
  std::size_t threads = 2;  // event loop threads
  std::size_t jobs = 4;     // jobs run at once
  std::chrono::milliseconds drain_deadline{25'000};
  std::chrono::milliseconds lease{10'000};  // a job unrenewed this long is reclaimed
  int max_deliveries = 5;                   // then it is dead-lettered
  std::vector<pipeline_spec> pipelines;     // the specs its jobs run (load_pipelines)
};

// Runs until a signal drains it. Returns the process exit code: 0 after a clean drain, 1 when
// the schema is older than this binary needs or the drain deadline passed. Throws on start-up
// errors (bad settings).
int run_worker_process(const settings& cfg, const worker_process_options& opts, int slot);

}  // namespace etl
