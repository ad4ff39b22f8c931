// The rows the Postgres layer hands out: a task, its batches, and their states, with the text
// forms used both in the database and in the HTTP API.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <pqxx/row>

#include "etl/core/aliases.hpp"
#include "etl/core/uuid.hpp"

namespace etl {

// Postgres timestamptz has microsecond resolution; so do these.
using db_time = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

enum class task_status { queued, running, succeeded, failed, cancelled };
enum class batch_state { pending, posting, posted, failed, skipped };

std::string_view to_string(task_status s) noexcept;
std::string_view to_string(batch_state s) noexcept;
// nullopt for any other text.
std::optional<task_status> parse_task_status(std::string_view text) noexcept;
std::optional<batch_state> parse_batch_state(std::string_view text) noexcept;

// succeeded, failed and cancelled are final: nothing changes a finished task's status.
bool is_finished(task_status s) noexcept;
// posted, failed and skipped are final for a batch.
bool is_finished(batch_state s) noexcept;

struct task_counters {
  std::int64_t pages = 0;
  std::int64_t fetched = 0;
  std::int64_t posted = 0;
  std::int64_t rejected = 0;
  std::int64_t retries = 0;
  std::int64_t hedges = 0;
  std::int64_t in_doubt = 0;  // batches in doubt: a POST of theirs may or may not have landed
  // ids the listing showed more than once, posted once: posted + rejected + duplicates is what
  // the source listed
  std::int64_t duplicates = 0;
};

struct task {
  std::string id;  // uuid, lower case
  task_status status = task_status::queued;
  bool audit_mode = false;
  std::optional<std::string> idempotency_key;
  json::value request;               // the trigger's parameters, as given to create_task
  std::string pipeline = "animals";  // the spec the task runs
  json::object params;               // the pipeline's parameters: the trigger's, defaults filled in
  // What each batch's data-quality checks found (batches.quality, by batch number), for a
  // pipeline that declares checks; empty otherwise.
  json::array quality;
  // An incremental pipeline's task: where it read from (as sent upstream), whether it moves the
  // pipeline's cursor when it succeeds (a backfill does not), and the highest cursor value it
  // delivered (ISO 8601 UTC), once it succeeded.
  std::optional<std::string> cursor_start;
  bool cursor_advances = false;
  std::optional<std::string> cursor_after;
  // What the task delivered to each sink of its pipeline, in the spec's order: {"kind",
  // "target" (a table or a folder), "rows", and "files" for a files sink}; empty for animals.
  json::array sinks;
  db_time created_at;
  std::optional<db_time> started_at;
  std::optional<db_time> finished_at;
  db_time updated_at;
  std::optional<int> total_pages;  // set by start_task
  int batches_total = 0;
  int batches_done = 0;    // finished as posted (in doubt or not)
  int batches_failed = 0;  // finished as failed
  task_counters counters;
  json::array errors;  // [{"at": ISO 8601 text, "batch": int or null, "reason": text}], <= 100
};

// One batch job's slice of the listing, as the plan job computes it.
struct batch_plan {
  int batch_no = 0;  // >= 0, unique within a task
  int first_page = 1;
  int last_page = 1;  // inclusive, >= first_page
};

struct batch {
  std::string task_id;
  int batch_no = 0;
  int first_page = 1;
  int last_page = 1;
  batch_state state = batch_state::pending;
  int attempts = 0;  // claims that moved it to posting
  int posted_count = 0;
  int rejected_count = 0;
  bool in_doubt = false;
  std::optional<std::string> error;
  db_time updated_at;
};

namespace detail {

// The SELECT lists read_task and read_batch expect, in order (table aliases t and b).
extern const char* const task_columns;
extern const char* const batch_columns;
// Throw pqxx::conversion_error on an unexpected value (a bug or a schema mismatch); db_pool
// turns that into query_failed.
task read_task(const pqxx::row& row);
batch read_batch(const pqxx::row& row);
// The text form of a task_status from the database; throws pqxx::conversion_error on others.
task_status status_from_db(const pqxx::field& f);
// A Postgres array literal of integers, "{1,2,3}", to bind as `$n::bigint[]` or `$n::int[]`.
std::string pg_array(const std::vector<std::int64_t>& values);

}  // namespace detail

}  // namespace etl
