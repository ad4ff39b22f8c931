// What Postgres keeps for keyset-paged and incremental pipelines (docs/pipelines.md, "Keyset
// paging" and "Incremental runs"):
// - the chain of a keyset task's batches: each batch starts after a key (after_key), and a
//   batch that finds more pages adds the next one in the transaction that records its own, so
//   a redelivered job resumes where its batch was and no key starts two batches of a task;
// - each incremental pipeline's cursor (the highest cursor value a succeeded task delivered,
//   with the keys delivered at exactly that value), the start each task took from it, and the
//   cursor's advance in the transaction that marks a task succeeded.
// The functions taking a pqxx::work run inside a caller's transaction (the batch's record, or
// the task's finish); the others run one transaction each on the db_pool's threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <pqxx/transaction>

#include "etl/core/aliases.hpp"
#include "etl/db/db_pool.hpp"

namespace etl {

// An incremental task's start, fixed by its plan job.
struct incremental_start {
  std::string start;              // as sent upstream ({cursor.start}): an ISO date or date-time
  std::vector<std::string> skip;  // keys delivered at exactly `start` by earlier tasks
  bool advances = false;          // the task moves the pipeline's cursor when it succeeds
};

// A pipeline's stored cursor.
struct stored_cursor {
  std::string value;  // ISO 8601 UTC ("2020-06-07T03:40:05Z", microseconds when it has them)
  std::vector<std::string> keys;
};

// A keyset batch's place in its chain.
struct chain_link {
  std::optional<std::string> after_key;  // none: the chain's first batch
  std::optional<int> next_pending;       // the next batch, when it exists and is still pending
};

class cursor_store {
 public:
  explicit cursor_store(db_pool& db) noexcept : db_(&db) {}

  // The pipeline's cursor; nullopt when no task has moved it yet.
  net::awaitable<result<std::optional<stored_cursor>>> load(std::string pipeline);

  // Records `c` as the task's start unless one is recorded already (a redelivered plan job
  // keeps the first), and returns the task's. Errors: invalid_argument (not a uuid), not_found.
  net::awaitable<result<incremental_start>> fix_for_task(std::string task_id, incremental_start c);

  // The task's start; nullopt for a task that has none (not incremental).
  // Errors: invalid_argument (not a uuid), not_found.
  net::awaitable<result<std::optional<incremental_start>>> of_task(std::string task_id);

  // Batch `batch_no`'s key to start after and its pending successor. Errors: invalid_argument,
  // not_found (no such batch).
  net::awaitable<result<chain_link>> link_of(std::string task_id, int batch_no);

  // Whether `key` started a batch of the task already (the upstream handed it back: a loop).
  net::awaitable<result<bool>> key_seen(std::string task_id, std::string key);

 private:
  db_pool* db_;
};

// In the transaction that records batch `batch_no`: adds batch batch_no + 1, pending (skipped
// when the task is no longer running), starting after `key`, and counts it in the task's
// batches_total and total_pages (so the task is not finished by this batch's record). A key the
// task has started a batch with already violates batches_after_key_idx: the transaction fails
// (check key_seen first).
void append_chain_batch(pqxx::work& tx, const std::string& task_id, int batch_no,
                        const std::string& key);

// In the transaction that records a batch of an incremental task: the highest cursor value the
// batch delivered (ISO 8601 with its offset) and the keys of the records that had it.
void record_batch_cursor(pqxx::work& tx, const std::string& task_id, int batch_no,
                         const std::string& max_value, const std::vector<std::string>& keys);

// In the transaction that marks a task succeeded: sets its cursor_after (the highest value its
// batches delivered) and, when the task advances the cursor, moves the pipeline's cursor there
// (never back; at an equal value the keys are merged). Nothing for a task without a cursor.
void finish_task_cursor(pqxx::work& tx, const std::string& task_id);

}  // namespace etl
