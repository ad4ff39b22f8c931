// The trigger's outbox: a trigger inserts its task, enqueues the task's plan job, then marks the
// task's plan as enqueued. A server that dies (or loses Redis) between the insert and the mark
// leaves a queued task whose plan job may never have been enqueued; the sweep finds such tasks,
// once they are older than a trigger can take, and enqueues their plan job. Planning is
// idempotent and a second plan job of one task enqueues nothing (tasks_repository::start_task),
// so a sweep that races a slow trigger, or two servers sweeping at once, is harmless.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "etl/core/aliases.hpp"
#include "etl/db/tasks_repository.hpp"
#include "etl/queue/job_queue.hpp"

namespace etl {

// Enqueues the plan job of `task_id` (a task of `pipeline`), then marks it enqueued. Returns the
// job's entry id; fails with the queue's error (the plan job may or may not be in the queue then:
// the sweep finds the task). A mark that fails is logged only: the sweep may enqueue a second plan
// job, harmlessly.
net::awaitable<result<std::string>> enqueue_plan(tasks_repository& tasks, job_queue& queue,
                                                 const std::string& task_id, bool audit,
                                                 const std::string& pipeline);

class plan_outbox_sweep {
 public:
  // Sweeps every `every`, for tasks left unqueued more than `older_than` ago.
  plan_outbox_sweep(net::any_io_executor ex, tasks_repository& tasks, job_queue& queue,
                    std::chrono::milliseconds every = std::chrono::seconds{5},
                    std::chrono::milliseconds older_than = std::chrono::seconds{10});

  // Sweeps until stop(), then returns (after the round under way, if any).
  net::awaitable<void> run();
  // One round: enqueues the plan job of every task found (up to 100). Returns how many.
  net::awaitable<result<int>> sweep_once();
  // Ends run() at its next wait. Call on the executor's thread or any other.
  void stop();

 private:
  tasks_repository& tasks_;
  job_queue& queue_;
  std::chrono::milliseconds every_;
  std::chrono::milliseconds older_than_;
  net::steady_timer timer_;
  std::atomic<bool> stopping_{false};
};

}  // namespace etl
