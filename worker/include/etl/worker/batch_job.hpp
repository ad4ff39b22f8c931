// The batch job (docs/architecture.md, "A task's life", step 3, and "Delivery guarantees"): fetch
// the batch's pages and details, validate and transform, claim the ids in the ledger, POST them to
// home once, write the audit dump, record the outcome.
//
// Exactly once: the claim commits the batch as `posting` just before the POST is written; a
// redelivered job that finds its own claim still `posting` is in doubt and follows ETL_IN_DOUBT;
// a duplicate job (another entry for the same batch) that finds someone else's claim leaves it
// alone. An answer proving the POST was not taken puts the batch back to `pending` first.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "etl/worker/job_outcome.hpp"
#include "etl/worker/worker_context.hpp"

namespace etl {

// Runs a batch job (fields: type=batch, task=<uuid>, batch=<n>, first_page, last_page,
// audit=0|1).
net::awaitable<job_outcome> run_batch_job(worker_context& ctx, const job& j);

}  // namespace etl
