// The batch ledger: the Postgres side of "exactly once per id per task" (docs/architecture.md, "The
// ledger and its guarantees"). A batch row goes pending -> posting (claim_for_post, committed just
// before the POST is written) -> posted or failed (finish_batch, just after home's answer);
// back_to_pending undoes a claim when home's answer proves the POST was not taken. `task_ids` gives
// every id of a task one owning batch, so an id the listing repeats in two batches is posted once.
//
// Every function runs one transaction on the db_pool's threads (finish_batch's may hold other
// finishes too) and is safe to call twice for the same step (a redelivered batch job): the second
// call changes nothing and reports the state the first one left. Errors: invalid_argument (task id
// not a uuid, a negative count), not_found (no such batch), and those of `db_pool::run`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <pqxx/transaction>

#include "etl/core/aliases.hpp"
#include "etl/db/db_pool.hpp"
#include "etl/db/task_model.hpp"

namespace etl {

// Who claims a batch: a run of a batch job. A job redelivered after its lease ran out keeps its
// queue entry id but counts one more delivery, so the delivery count fences the runs of one job:
// a run that finds a higher fence on its batch is stale (the job was handed to a newer run while
// it was still going) and must stop without acknowledging the job.
struct batch_claimant {
  std::string job;         // the job's queue entry id; empty matches any (tools and tests)
  std::int64_t fence = 0;  // the run's delivery count: higher is newer
};

enum class claim_outcome {
  claimed,         // state is now posting (or still pending when `ids` is empty): POST `ids`
  already_posted,  // posted before (in doubt or not): do not POST; the job is done
  already_failed,  // finished as failed before: do not POST; the job is done
  in_doubt,   // found in posting: a POST of `ids` may have reached home (see docs/architecture.md)
  cancelled,  // the task is cancelled or already finished: the batch is (now) skipped
  claimed_elsewhere,  // posting under another job's claim (a duplicate job): leave it
  stale,              // a newer run of this job holds the batch: stop, do not acknowledge
};

struct claim_result {
  claim_outcome outcome = claim_outcome::claimed;
  // claimed and in_doubt: the ids this batch owns, ascending (for claimed, only those among the
  // candidates). Empty for the other outcomes.
  std::vector<std::int64_t> ids;
  // claimed: candidate ids owned by another batch of the task, ascending: drop them and count
  // them as duplicates. Candidates repeated within the call count once and are not listed.
  std::vector<std::int64_t> duplicates;
  int attempts = 0;  // the batch's claims so far, including this one
  // in_doubt: how long ago the claim in force was made. A POST of that claim may still be on
  // the wire while this is below the POST's timeout (a slow earlier run that is still alive).
  std::chrono::milliseconds claim_age{0};
};

struct rejected_row {
  std::optional<std::int64_t> animal_id;  // nullopt when the record had no readable id
  std::string reason;
  std::string raw;  // the offending JSON text, possibly truncated by the caller
};

enum class batch_outcome {
  posted,           // home answered 2xx
  failed,           // the batch gave up (fetch or POST failures, retries exhausted)
  posted_in_doubt,  // found in posting on redelivery and resolved by ETL_IN_DOUBT (skip or
                    // resend): recorded as posted with in_doubt set, counted in the task's in_doubt
};

// What one batch job adds to its task. Counts must be >= 0.
struct batch_result {
  batch_outcome outcome = batch_outcome::posted;
  task_counters counts;  // pages, fetched, posted, rejected, retries, hedges (in_doubt ignored)
  std::vector<rejected_row> rejected;
  std::optional<std::string> error;  // why it failed; appended to the task's errors when failed
  // failed: home answered this run's own claim with a refusal (a 3xx or 4xx), so nothing of it
  // was taken. Otherwise a batch that fails while posting stays in doubt (a dead letter, a
  // refused resend of a batch already in doubt): an earlier POST of it may have landed.
  bool refused = false;
  // posted: why its audit dump could not be written (kept on the batch for etl-verify).
  std::optional<std::string> audit_error;
  // Work that commits with the batch's record, or not at all: a postgres sink's rows, a files
  // sink's manifest. Run inside the recording transaction only when this call records the
  // batch (never for a batch finished before), before its row is written; it may run more than
  // once (a transaction rerun after a conflict), so it must only touch the database. A libpqxx
  // error from it fails this finish with query_failed and records nothing.
  std::function<void(pqxx::work&)> in_transaction;
};

struct finish_report {
  bool applied = false;  // false: the batch was already finished and nothing changed
  batch_state state = batch_state::pending;   // the batch's state afterwards
  task_status status = task_status::running;  // the task's status afterwards
  bool finalized = false;                     // this call moved the task to succeeded or failed
  // posted, on a batch another run had recorded as posted in doubt: its doubt (and one of its
  // task's) is cleared, since this run heard home's 2xx.
  bool doubt_cleared = false;
};

// A record a worker rejected, as etl-verify needs it (the raw text is left in the table).
struct rejected_id {
  std::optional<std::int64_t> animal_id;  // nullopt when the record had no readable id
  std::string reason;
};

// A batch whose POST may or may not have reached home (docs/architecture.md, "The ledger and its
// guarantees").
struct doubtful_batch {
  int batch_no = 0;
  // posting: a POST was written by a job that has not recorded home's answer (it is on the wire
  // now, or its worker died); posted: resolved as posted_in_doubt by ETL_IN_DOUBT.
  batch_state state = batch_state::posting;
  std::vector<std::int64_t> ids;  // the ids the batch owns, ascending
};

// A batch home took whose audit dump the worker could not write.
struct undumped_batch {
  int batch_no = 0;
  std::string reason;
  std::vector<std::int64_t> ids;  // the ids the batch owns, ascending
};

class batch_ledger {
 public:
  explicit batch_ledger(db_pool& db) noexcept : db_(&db) {}

  // Claims the batch for a POST of `candidates`, with the batch row locked (FOR UPDATE):
  // - pending, task running: each candidate no batch owns yet becomes this batch's (ids it
  //   already owns from an earlier claim stay its own, so a retry after back_to_pending claims
  //   the same set); state posting under `who`'s claim, attempts + 1; outcome claimed. With no
  //   id to post, the state stays pending: call finish_batch without a POST.
  // - pending, task cancelled or finished: batch skipped; outcome cancelled.
  // - posting (whatever the task's status: a POST may have reached home): outcome in_doubt with
  //   the ids it owns and the claim's age; `who` takes the claim over (an older run of the same
  //   job is fenced out from then on). Resolve it with finish_batch(posted_in_doubt).
  // - posted, failed, skipped: already_posted, already_failed, cancelled; nothing changes.
  // A batch in posting under another job's claim (a duplicate job for this batch) gives
  // claimed_elsewhere: that job resolves it, so a duplicate never marks a live POST as in doubt.
  // A batch, pending or posting, last claimed by a newer run of `who`'s own job gives stale.
  net::awaitable<result<claim_result>> claim_for_post(std::string task_id, int batch_no,
                                                      std::vector<std::int64_t> candidates,
                                                      batch_claimant who = {});

  // posting -> pending under `who`'s claim: home's answer proved the POST was not taken
  // (connect failure, 429, 502/503/504), so a crash while waiting to retry is not in doubt.
  // Returns whether the batch is now pending under that claim; false when it is no longer that
  // claim's (posted, failed, skipped, or claimed by a newer run): then the POST must stop.
  // Errors: not_found, and those of `db_pool::run`.
  net::awaitable<result<bool>> back_to_pending(std::string task_id, int batch_no,
                                               batch_claimant who = {});

  // Whether the batch is still posting under `who`'s claim; if so, marks the claim as confirmed
  // now (a POST about to retry: a run that finds the claim later waits from this moment).
  net::awaitable<result<bool>> confirm_claim(std::string task_id, int batch_no, batch_claimant who);

  // Records the batch's outcome and adds its counts to the task. Unless the batch is already
  // posted, failed or skipped (then applied = false and nothing changes, but for a posted
  // outcome on a batch posted in doubt, whose doubt is cleared): writes the batch row,
  // inserts the rejected records, adds the counts, batches_done or batches_failed + 1 (plus
  // in_doubt + 1 for posted_in_doubt, and for a failure of a batch in posting that home did not
  // refuse: see batch_result::refused; a failure's error goes to the task's errors), and when
  // done + failed == total on a running task, sets it succeeded (no failed batch) or failed,
  // with finished_at; of two batches finishing at once exactly one sees the last count. On a
  // task already cancelled or failed the counts are still added but the status stays.
  // Finishes called while another is being committed wait and are committed together, in one
  // transaction (group commit: see finish_request in the .cpp); each is committed when its call
  // returns, and a failure of that transaction is every one's error.
  net::awaitable<result<finish_report>> finish_batch(std::string task_id, int batch_no,
                                                     batch_result outcome);

  // The task's batches in doubt (posted_in_doubt, or still posting), by batch_no, each with the
  // ids it owns: where a duplicate or a gap at home may be. Empty for an unknown task.
  net::awaitable<result<std::vector<doubtful_batch>>> list_in_doubt(std::string task_id);

  // The task's batches whose audit dump failed, by batch_no, each with why and its ids. Empty
  // for an unknown task.
  net::awaitable<result<std::vector<undumped_batch>>> list_undumped(std::string task_id);

  // The task's rejected records (ids and reasons, ordered by id, id-less ones last). Empty for an
  // unknown task.
  net::awaitable<result<std::vector<rejected_id>>> list_rejected(std::string task_id);

  // The batch's state; nullopt when there is no such batch. Errors: invalid_argument (task id
  // not a uuid), and those of `db_pool::run`.
  net::awaitable<result<std::optional<batch_state>>> state_of(std::string task_id, int batch_no);

 private:
  struct finish_request;
  // Commits the finishes queued now, in one transaction, on behalf of `self` and the others.
  net::awaitable<void> commit_finishes(finish_request* self);

  db_pool* db_;
  std::mutex finish_mu_;
  std::vector<finish_request*> finish_queue_;  // waiting for the next transaction
  bool finishing_ = false;                     // a transaction of finishes is under way
};

}  // namespace etl
