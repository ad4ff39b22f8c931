#include "etl/db/task_model.hpp"

#include <array>

#include <boost/json/parse.hpp>
#include <pqxx/except>
#include <pqxx/field>

namespace etl {
namespace {

constexpr std::array<std::string_view, 5> task_status_names{"queued", "running", "succeeded",
                                                            "failed", "cancelled"};
constexpr std::array<std::string_view, 5> batch_state_names{"pending", "posting", "posted",
                                                            "failed", "skipped"};

db_time time_from(const pqxx::field& f) {
  return db_time(std::chrono::microseconds(f.as<std::int64_t>()));
}

std::optional<db_time> optional_time_from(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return time_from(f);
}

json::value json_from(const pqxx::field& f) {
  error_code ec;
  auto v = json::parse(f.c_str(), ec);
  if (ec)
    throw pqxx::conversion_error("column " + std::string(f.name()) + " is not JSON");
  return v;
}

#define ETL_EPOCH_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

}  // namespace

std::string_view to_string(task_status s) noexcept {
  return task_status_names[static_cast<std::size_t>(s)];
}

std::string_view to_string(batch_state s) noexcept {
  return batch_state_names[static_cast<std::size_t>(s)];
}

std::optional<task_status> parse_task_status(std::string_view text) noexcept {
  for (std::size_t i = 0; i < task_status_names.size(); ++i)
    if (task_status_names[i] == text)
      return static_cast<task_status>(i);
  return std::nullopt;
}

std::optional<batch_state> parse_batch_state(std::string_view text) noexcept {
  for (std::size_t i = 0; i < batch_state_names.size(); ++i)
    if (batch_state_names[i] == text)
      return static_cast<batch_state>(i);
  return std::nullopt;
}

bool is_finished(task_status s) noexcept {
  return s == task_status::succeeded || s == task_status::failed || s == task_status::cancelled;
}

bool is_finished(batch_state s) noexcept {
  return s == batch_state::posted || s == batch_state::failed || s == batch_state::skipped;
}

namespace detail {

const char* const task_columns =
    "t.id, t.status, t.audit_mode, t.idempotency_key, t.request::text, " ETL_EPOCH_US(
        "t.created_at") ", " ETL_EPOCH_US("t.started_at") ", " ETL_EPOCH_US(
        "t.finished_at") ", " ETL_EPOCH_US("t.updated_at") ", t.total_pages, t.batches_total, "
                                                           "t.batches_done, t.batches_failed, "
                                                           "t.pages, t.fetched, t.posted, "
                                                           "t.rejected, t.retries, t.hedges, "
                                                           "t.in_doubt, t.errors::text, t.duplicates, "
                                                           "t.pipeline, t.params::text, "
    "(SELECT jsonb_agg(b.quality ORDER BY b.batch_no) FROM batches b "
    "WHERE b.task_id = t.id AND b.quality IS NOT NULL)::text, t.cursor_start, t.cursor_advances, "
    "to_char(t.cursor_after AT TIME ZONE 'UTC', CASE WHEN extract(microseconds FROM "
    "t.cursor_after)::bigint % 1000000 = 0 THEN 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' "
    "ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"' END), "
    // Each sink's deliveries summed over the task's batches, in the spec's order.
    "(SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('kind', x.kind, 'target', x.target, "
    "'rows', x.rows, 'files', x.files)) ORDER BY x.i) FROM (SELECT e.i, e.v->>'kind' AS kind, "
    "e.v->>'target' AS target, sum((e.v->>'rows')::bigint) AS rows, "
    "sum((e.v->>'files')::bigint) AS files FROM batches b, jsonb_array_elements(b.sinks) "
    "WITH ORDINALITY AS e(v, i) WHERE b.task_id = t.id AND b.sinks IS NOT NULL "
    "GROUP BY e.i, e.v->>'kind', e.v->>'target') x)::text";

const char* const batch_columns =
    "b.task_id, b.batch_no, b.first_page, b.last_page, b.state, b.attempts, b.posted_count, "
    "b.rejected_count, b.in_doubt, b.error, " ETL_EPOCH_US("b.updated_at");

task_status status_from_db(const pqxx::field& f) {
  auto s = parse_task_status(f.c_str());
  if (!s)
    throw pqxx::conversion_error("unknown task status '" + std::string(f.c_str()) + "'");
  return *s;
}

std::string pg_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0)
      out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

task read_task(const pqxx::row& row) {
  task t;
  t.id = row[0].as<std::string>();
  t.status = status_from_db(row[1]);
  t.audit_mode = row[2].as<bool>();
  if (!row[3].is_null())
    t.idempotency_key = row[3].as<std::string>();
  t.request = json_from(row[4]);
  t.created_at = time_from(row[5]);
  t.started_at = optional_time_from(row[6]);
  t.finished_at = optional_time_from(row[7]);
  t.updated_at = time_from(row[8]);
  if (!row[9].is_null())
    t.total_pages = row[9].as<int>();
  t.batches_total = row[10].as<int>();
  t.batches_done = row[11].as<int>();
  t.batches_failed = row[12].as<int>();
  t.counters.pages = row[13].as<std::int64_t>();
  t.counters.fetched = row[14].as<std::int64_t>();
  t.counters.posted = row[15].as<std::int64_t>();
  t.counters.rejected = row[16].as<std::int64_t>();
  t.counters.retries = row[17].as<std::int64_t>();
  t.counters.hedges = row[18].as<std::int64_t>();
  t.counters.in_doubt = row[19].as<std::int64_t>();
  auto errors = json_from(row[20]);
  if (!errors.is_array())
    throw pqxx::conversion_error("tasks.errors is not a JSON array");
  t.errors = std::move(errors.as_array());
  t.counters.duplicates = row[21].as<std::int64_t>();
  t.pipeline = row[22].as<std::string>();
  auto params = json_from(row[23]);
  if (!params.is_object())
    throw pqxx::conversion_error("tasks.params is not a JSON object");
  t.params = std::move(params.as_object());
  if (!row[24].is_null()) {
    auto quality = json_from(row[24]);
    if (!quality.is_array())
      throw pqxx::conversion_error("batches.quality is not a JSON array");
    t.quality = std::move(quality.as_array());
  }
  if (!row[25].is_null()) {
    t.cursor_start = row[25].as<std::string>();
    t.cursor_advances = row[26].as<bool>();
  }
  if (!row[27].is_null())
    t.cursor_after = row[27].as<std::string>();
  if (!row[28].is_null()) {
    auto sinks = json_from(row[28]);
    if (!sinks.is_array())
      throw pqxx::conversion_error("batches.sinks is not a JSON array");
    t.sinks = std::move(sinks.as_array());
  }
  return t;
}

batch read_batch(const pqxx::row& row) {
  batch b;
  b.task_id = row[0].as<std::string>();
  b.batch_no = row[1].as<int>();
  b.first_page = row[2].as<int>();
  b.last_page = row[3].as<int>();
  auto state = parse_batch_state(row[4].c_str());
  if (!state)
    throw pqxx::conversion_error("unknown batch state '" + std::string(row[4].c_str()) + "'");
  b.state = *state;
  b.attempts = row[5].as<int>();
  b.posted_count = row[6].as<int>();
  b.rejected_count = row[7].as<int>();
  b.in_doubt = row[8].as<bool>();
  if (!row[9].is_null())
    b.error = row[9].as<std::string>();
  b.updated_at = time_from(row[10]);
  return b;
}

}  // namespace detail

}  // namespace etl
