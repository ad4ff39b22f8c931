// The batch ledger: the Postgres side of "exactly once per id per task" (DESIGN.md, Delivery
// guarantees). A batch row goes pending -> posting (claim_for_post, committed just before the
// POST is written) -> posted or failed (finish_batch, just after home's answer); back_to_pending
// undoes a claim when home's answer proves the POST was not taken. `task_ids` gives every id of
// a task one owning batch, so an id the listing repeats in two batches is posted once.
//
// Every function runs one transaction on the db_pool's threads (finish_batch's may hold other
// finishes too) and is safe to call twice for the same step (a redelivered batch job): the second
// call changes nothing and reports the state the first one left. Errors: invalid_argument (task id
// not a uuid, a negative count), not_found (no such batch), and those of `db_pool::run`.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "etl/core/aliases.hpp"
#include "etl/db/db_pool.hpp"
#include "etl/db/task_model.hpp"

namespace etl {

enum class claim_outcome {
  claimed,            // state is now posting (or still pending when `ids` is empty): POST `ids`
  already_posted,     // posted before (in doubt or not): do not POST; the job is done
  already_failed,     // finished as failed before: do not POST; the job is done
  in_doubt,           // found in posting: a POST of `ids` may have reached home (see DESIGN.md)
  cancelled,          // the task is cancelled or already finished: the batch is (now) skipped
  claimed_elsewhere,  // posting under another claimant's claim (a duplicate job): leave it
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
};

struct finish_report {
  bool applied = false;  // false: the batch was already finished and nothing changed
  batch_state state = batch_state::pending;   // the batch's state afterwards
  task_status status = task_status::running;  // the task's status afterwards
  bool finalized = false;                     // this call moved the task to succeeded or failed
};

// A record a worker rejected, as etl-verify needs it (the raw text is left in the table).
struct rejected_id {
  std::optional<std::int64_t> animal_id;  // nullopt when the record had no readable id
  std::string reason;
};

// A batch whose POST may or may not have reached home (DESIGN.md, "Delivery guarantees").
struct doubtful_batch {
  int batch_no = 0;
  // posting: a POST was written by a job that has not recorded home's answer (it is on the wire
  // now, or its worker died); posted: resolved as posted_in_doubt by ETL_IN_DOUBT.
  batch_state state = batch_state::posting;
  std::vector<std::int64_t> ids;  // the ids the batch owns, ascending
};

class batch_ledger {
 public:
  explicit batch_ledger(db_pool& db) noexcept : db_(&db) {}

  // Claims the batch for a POST of `candidates`, with the batch row locked (FOR UPDATE):
  // - pending, task running: each candidate no batch owns yet becomes this batch's (ids it
  //   already owns from an earlier claim stay its own, so a retry after back_to_pending claims
  //   the same set); state posting, attempts + 1; outcome claimed. With no id to post, the
  //   state stays pending: call finish_batch without a POST.
  // - pending, task cancelled or finished: batch skipped; outcome cancelled.
  // - posting (whatever the task's status: a POST may have reached home): outcome in_doubt
  //   with the ids it owns; nothing changes. Resolve it with finish_batch(posted_in_doubt).
  // - posted, failed, skipped: already_posted, already_failed, cancelled; nothing changes.
  // `claimant` names the job that claims (its queue entry id). A batch found in posting under
  // a different claimant's claim gives claimed_elsewhere: the job holding that claim resolves
  // it, so a duplicate job never marks a live POST as in doubt. An empty claimant matches any.
  net::awaitable<result<claim_result>> claim_for_post(std::string task_id, int batch_no,
                                                      std::vector<std::int64_t> candidates,
                                                      std::string claimant = {});

  // posting -> pending: home's answer proved the POST was not taken (connect failure, 429,
  // 502/503/504), so a crash while waiting to retry is not in doubt. Any other state is left
  // as it is. Returns the state afterwards.
  net::awaitable<result<batch_state>> back_to_pending(std::string task_id, int batch_no);

  // Records the batch's outcome and adds its counts to the task. Unless the batch is already
  // posted, failed or skipped (then applied = false and nothing changes): writes the batch row,
  // inserts the rejected records, adds the counts, batches_done or batches_failed + 1 (plus
  // in_doubt + 1 for posted_in_doubt; a failure's error goes to the task's errors), and when
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

  // The task's rejected records (ids and reasons, ordered by id, id-less ones last). Empty for an
  // unknown task.
  net::awaitable<result<std::vector<rejected_id>>> list_rejected(std::string task_id);

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
