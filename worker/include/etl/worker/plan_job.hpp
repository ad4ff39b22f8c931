// The plan job (docs/architecture.md, "A task's life", step 2): page 1 gives total_pages; the task
// is cut into batches of whole pages holding at most 100 animals (for an http_batch sink: what
// one POST takes; 1,000 records for the other sinks); the batches are recorded and one batch job
// is enqueued per unfinished batch, carrying the task's pipeline and parameters. Safe to run twice:
// a redelivered plan finds the batches already recorded and enqueues the unfinished ones again
// (duplicates are harmless, see batch_job.hpp); a second plan job of the same task (the trigger's
// outbox sweep raced a slow trigger) finds the task planned by the first and enqueues nothing. A
// source that claims more than max_total_pages fails the task with that reason instead of
// exhausting memory.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <vector>

#include "etl/db/task_model.hpp"
#include "etl/worker/job_outcome.hpp"
#include "etl/worker/worker_context.hpp"

namespace etl {

// Batches of consecutive pages 1..total_pages, each of at most max(1, max_animals / page_size)
// pages, numbered from 0. Nothing for total_pages <= 0.
std::vector<batch_plan> plan_batches(int total_pages, int page_size, int max_animals = 100);

// Runs a plan job (etl/jobs/plan_message.hpp).
net::awaitable<job_outcome> run_plan_job(worker_context& ctx, const job& j);

}  // namespace etl
