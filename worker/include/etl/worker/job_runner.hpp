// The job runner of one worker process: takes jobs from the queue while it has free slots, runs
// several at once, acknowledges the done ones and hands back the others, and fails the task of
// every job the queue dead-letters. A job that meets an unreachable Postgres (job_verdict::wait)
// is kept and run again after a pause, for at most `wait_limit`; so is the recording of a dead
// job on its task, for at most `bury_limit`; at start the recent dead letters are recorded
// again, for a worker that died before it could. A job handed out again while this process still
// runs it (the queue reclaims every entry whose lease lapsed, a Redis outage longer than the
// lease included) is not started twice. On stop it takes no new job and returns once the jobs in
// hand have finished.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "etl/worker/job_outcome.hpp"
#include "etl/worker/worker_context.hpp"

namespace etl {

class job_runner {
 public:
  job_runner(worker_context& ctx, std::size_t slots)
      : ctx_(ctx), slots_(std::max<std::size_t>(slots, 1)) {}

  // Runs until stop() and the jobs in hand are finished. Never throws for a job's failure.
  net::awaitable<void> run();

  // Takes no new job from now on; run() returns when the jobs in hand are done. Thread-safe.
  void stop() noexcept { stopping_ = true; }

  std::size_t running() const noexcept { return running_.load(); }

 private:
  // How long a job may wait in hand for Postgres before it is handed back like a failure.
  static constexpr std::chrono::minutes wait_limit{5};
  // How long a dead job's failure is tried on its task while Postgres is unreachable. Longer
  // than wait_limit: the job is out of the queue, so nothing else would ever fail its task.
  static constexpr std::chrono::minutes bury_limit{10};
  // At start, the dead letters of this last stretch are recorded on their tasks again: the
  // worker that dead-lettered one may have died before Postgres let it record it.
  static constexpr std::chrono::hours rebury_window{1};
  static constexpr std::size_t rebury_count = 100;

  net::awaitable<job_outcome> run_once(const job& j);
  // Marks the job as running here; false when it already is (then it must not start again).
  bool start_running(const std::string& id);
  void end_running(const std::string& id);
  net::awaitable<void> run_one(job j);
  net::awaitable<void> bury(dead_job d);
  // Records a dead job on its task, trying again while Postgres is unreachable (bury_limit).
  net::awaitable<void> record_until_done(const dead_job& d, const std::string& reason);
  // At start: records the recent dead letters again (rebury_window, rebury_count).
  net::awaitable<void> bury_recent_again();
  // One try at recording a dead job on its task (its batch failed, or the task failed).
  net::awaitable<error_code> record_burial(const dead_job& d, const std::string& reason);

  worker_context& ctx_;
  const std::size_t slots_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> running_{0};
  std::mutex ids_mu_;
  std::set<std::string> running_ids_;  // entry ids of the jobs this process runs now
};

}  // namespace etl
