// The task record: create, read, list, start (with its batch plan), cancel, fail.
//
// Every function is a coroutine that runs its SQL on the db_pool's threads and returns a
// result; none blocks the caller's event loop. Every function is safe to call twice for the same
// step (a redelivered job): the second call changes nothing the first one did and reports the
// current state. Task ids are uuid text; a malformed id is `etl::errc::invalid_argument`, an
// unknown one `db_errc::not_found` (get_task: nullopt). Database errors are those of
// `db_pool::run`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "etl/core/aliases.hpp"
#include "etl/db/db_pool.hpp"
#include "etl/db/task_model.hpp"

namespace etl {

struct created_task {
  task value;
  bool existed = false;  // the idempotency key named an existing task, returned unchanged
  // With `existed`: whether that task was created with an equal `request`. False means the
  // caller reused a key with other parameters (and nothing was created).
  bool same_request = true;
};

// Where the previous page of list_tasks ended (its last task).
struct task_cursor {
  db_time created_at;
  std::string id;
};

struct task_page {
  std::vector<task> tasks;          // newest first
  std::optional<task_cursor> next;  // set when the page is full: pass it to get the next page
};

// One record a worker rejected (bad upstream data), as the API shows it.
struct rejected_entry {
  std::int64_t row = 0;  // its place in the ledger: the paging key
  int batch_no = 0;
  std::optional<std::int64_t> animal_id;  // nullopt when the record had no readable id
  std::string reason;
  std::optional<std::string> raw;  // the offending JSON text, possibly cut short
};

struct rejected_entries {
  std::vector<rejected_entry> records;  // in the order they were recorded (row ascending)
  std::optional<std::int64_t> next;     // set when the page is full: the row to continue after
};

// A task read together with whether anything can still change it.
struct task_snapshot {
  task value;
  // Finished, no batch of it still pending or posting (whose job would add its counts), none in
  // doubt (a late 2xx may clear it): the task can change no more, so a copy of it stays true.
  bool settled = false;
};

struct started_task {
  task_status status = task_status::queued;  // running, or the status that prevented starting
  std::vector<batch> batches;                // every batch the task has, by batch_no
  // The task was started by another plan job (a second one the outbox sweep enqueued): this
  // one has nothing to enqueue, and `batches` is empty.
  bool planned_elsewhere = false;
};

// A queued task whose plan job is not known to be in the queue (see unqueued_plans).
struct unqueued_plan {
  std::string task_id;
  bool audit_mode = false;
  std::string pipeline;
};

class tasks_repository {
 public:
  explicit tasks_repository(db_pool& db) noexcept : db_(&db) {}

  // Inserts a queued task. With an idempotency key that names a task created within
  // `key_retention`, returns the newest such task unchanged with existed = true, and
  // same_request telling whether its `request` equals this one (JSON equality); an older key
  // starts a new task. Concurrent calls with one key create one task. The task runs `pipeline`
  // with `params` (checked against its spec by the caller).
  // Errors: invalid_argument (empty key or longer than 200 bytes, a retention below 1 ms, an
  // empty pipeline).
  net::awaitable<result<created_task>> create_task(
      bool audit_mode, std::optional<std::string> idempotency_key, json::value request,
      std::chrono::milliseconds key_retention = std::chrono::hours(24),
      std::string pipeline = "animals", json::object params = {});

  // The task, or nullopt when no task has this id. Errors: invalid_argument (not a uuid).
  net::awaitable<result<std::optional<task>>> get_task(std::string id);

  // The task and whether it is settled, read in one snapshot; nullopt when no task has this id.
  // Errors: invalid_argument (not a uuid).
  net::awaitable<result<std::optional<task_snapshot>>> get_task_snapshot(std::string id);

  // Up to `limit` tasks, newest first (created_at, then id), after `after` when given, only
  // `pipeline`'s when given. Errors: invalid_argument (limit outside 1..1000, cursor id not a
  // uuid).
  net::awaitable<result<task_page>> list_tasks(int limit, std::optional<task_cursor> after = {},
                                               std::optional<std::string> pipeline = {});

  // Up to `limit` of the task's rejected records, in the order recorded, after row `after`
  // (0: from the start); nullopt when no task has this id.
  // Errors: invalid_argument (not a uuid, limit outside 1..1000, after < 0).
  net::awaitable<result<std::optional<rejected_entries>>> list_rejected(std::string id, int limit,
                                                                        std::int64_t after = 0);

  // The plan job's commit, one transaction with the task row locked. A queued task gets
  // total_pages, batches_total and one pending batch per plan entry, records `planner` (the plan
  // job's queue entry id) and becomes running (or succeeded at once when the plan is empty). A
  // task that is not queued is left as it is (a redelivered plan job: the batches of the first
  // call stand, `plan` is ignored). Returns the status and every batch the task has, so the
  // caller enqueues a job per unfinished batch; none, with planned_elsewhere, when another plan
  // job started the task (an empty `planner` matches any).
  // Errors: not_found; invalid_argument (total_pages < 0, a batch_no < 0 or repeated, pages
  // outside 1..total_pages or first_page > last_page).
  net::awaitable<result<started_task>> start_task(std::string id, int total_pages,
                                                  std::vector<batch_plan> plan,
                                                  std::string planner = {});

  // The trigger's outbox: records that the task's plan job is in the queue (its entry id), so
  // the sweep leaves the task alone. Errors: invalid_argument (not a uuid).
  net::awaitable<result<void>> mark_plan_enqueued(std::string id, std::string job_id);

  // Queued tasks created more than `older_than` ago whose plan job was never marked enqueued
  // (their trigger's server died, or lost Redis, between the task's insert and the enqueue),
  // oldest first, at most `limit`. Errors: invalid_argument (limit outside 1..1000).
  net::awaitable<result<std::vector<unqueued_plan>>> unqueued_plans(
      std::chrono::milliseconds older_than, int limit);

  // Cancels a queued or running task: status cancelled, finished_at set, pending batches
  // skipped (a batch in posting is left to its job, which records its outcome). A finished task
  // is left as it is. Returns the status afterwards. Errors: not_found.
  net::awaitable<result<task_status>> cancel_task(std::string id);

  // Fails a queued or running task for good (a dead-lettered plan job, or a batch job when the
  // whole task must stop; to fail one batch and let the others finish, use
  // batch_ledger::finish_batch): status failed, `reason` appended to errors, finished_at set,
  // pending batches skipped. A finished task is left as it is (the reason is not appended
  // twice). Returns the status afterwards. Errors: not_found.
  net::awaitable<result<task_status>> fail_task(std::string id, std::string reason);

  // Unbinds the task's idempotency key, for a task its trigger could not queue (then failed):
  // a retry with the key starts a new task instead of finding the failed one. A task without a
  // key is left as it is. Errors: invalid_argument (not a uuid).
  net::awaitable<result<void>> forget_idempotency_key(std::string id);

  // The task's status alone: the cheap check before fetching and before posting.
  // Errors: not_found.
  net::awaitable<result<task_status>> get_status(std::string id);

  // Every batch of the task, by batch_no (empty for an unknown task or one not started).
  net::awaitable<result<std::vector<batch>>> list_batches(std::string id);

  // How many tasks each pipeline has in each status, in one grouped query (for /metrics); a
  // pipeline or status no task has is absent.
  net::awaitable<result<std::map<std::string, std::map<task_status, std::int64_t>>>>
  count_by_pipeline();

 private:
  db_pool* db_;
};

}  // namespace etl
