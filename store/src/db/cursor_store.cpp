#include "etl/db/cursor_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/pqxx>

#include "etl/core/error.hpp"
#include "etl/core/uuid.hpp"
#include "etl/db/db_error.hpp"

namespace etl {
namespace {

// libpqxx 6 binds no arrays: a text[] travels as JSON text, both ways.
std::string keys_json(const std::vector<std::string>& keys) {
  boost::json::array a;
  for (const auto& k : keys)
    a.emplace_back(k);
  return boost::json::serialize(a);
}

std::vector<std::string> keys_from_json(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null())
    return out;
  const auto parsed = boost::json::parse(f.as<std::string>());
  for (const auto& v : parsed.as_array())
    out.emplace_back(v.as_string());
  return out;
}

// A timestamptz as ISO 8601 UTC: whole seconds as "…:05Z", else with microseconds.
std::string iso_sql(const char* column) {
  return std::string("CASE WHEN extract(microseconds FROM ") + column +
         ")::bigint % 1000000 = 0 THEN to_char(" + column +
         " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') ELSE to_char(" + column +
         " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END";
}

// db_pool::run's result of a body that returns a result of its own.
template <class T>
result<T> flat(result<result<T>> r) {
  if (!r)
    return r.error();
  return std::move(*r);
}

}  // namespace

net::awaitable<result<std::optional<stored_cursor>>> cursor_store::load(std::string pipeline) {
  co_return co_await db_->run([&](pqxx::work& tx) -> std::optional<stored_cursor> {
    const auto rows = tx.exec_params("SELECT " + iso_sql("value") +
                                         ", array_to_json(keys)::text FROM pipeline_cursors "
                                         "WHERE pipeline = $1",
                                     pipeline);
    if (rows.empty())
      return std::nullopt;
    return stored_cursor{rows[0][0].as<std::string>(), keys_from_json(rows[0][1])};
  });
}

net::awaitable<result<incremental_start>> cursor_store::fix_for_task(std::string task_id,
                                                                     incremental_start c) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return flat(co_await db_->run([&](pqxx::work& tx) -> result<incremental_start> {
    const auto rows = tx.exec_params(
        "UPDATE tasks SET cursor_start = coalesce(cursor_start, $2), "
        "cursor_skip = CASE WHEN cursor_start IS NULL "
        "  THEN ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) ELSE cursor_skip END, "
        "cursor_advances = CASE WHEN cursor_start IS NULL THEN $4 ELSE cursor_advances END, "
        "updated_at = now() WHERE id = $1 "
        "RETURNING cursor_start, array_to_json(cursor_skip)::text, cursor_advances",
        task_id, c.start, keys_json(c.skip), c.advances);
    if (rows.empty())
      return make_error_code(db_errc::not_found);
    return incremental_start{rows[0][0].as<std::string>(), keys_from_json(rows[0][1]),
                             rows[0][2].as<bool>()};
  }));
}

net::awaitable<result<std::optional<incremental_start>>> cursor_store::of_task(
    std::string task_id) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return flat(co_await db_->run([&](pqxx::work& tx) -> result<std::optional<incremental_start>> {
    const auto rows = tx.exec_params(
        "SELECT cursor_start, array_to_json(cursor_skip)::text, cursor_advances FROM tasks "
        "WHERE id = $1",
        task_id);
    if (rows.empty())
      return make_error_code(db_errc::not_found);
    if (rows[0][0].is_null())
      return std::optional<incremental_start>{};
    return std::optional<incremental_start>{incremental_start{
        rows[0][0].as<std::string>(), keys_from_json(rows[0][1]), rows[0][2].as<bool>()}};
  }));
}

net::awaitable<result<chain_link>> cursor_store::link_of(std::string task_id, int batch_no) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return flat(co_await db_->run([&](pqxx::work& tx) -> result<chain_link> {
    const auto rows = tx.exec_params(
        "SELECT b.after_key, n.batch_no FROM batches b LEFT JOIN batches n "
        "ON n.task_id = b.task_id AND n.batch_no = b.batch_no + 1 AND n.state = 'pending' "
        "WHERE b.task_id = $1 AND b.batch_no = $2",
        task_id, batch_no);
    if (rows.empty())
      return make_error_code(db_errc::not_found);
    chain_link link;
    if (!rows[0][0].is_null())
      link.after_key = rows[0][0].as<std::string>();
    if (!rows[0][1].is_null())
      link.next_pending = rows[0][1].as<int>();
    return link;
  }));
}

net::awaitable<result<bool>> cursor_store::key_seen(std::string task_id, std::string key) {
  if (!is_uuid(task_id))
    co_return result<bool>{boost::system::in_place_error, make_error_code(errc::invalid_argument)};
  co_return co_await db_->run([&](pqxx::work& tx) {
    return !tx.exec_params("SELECT 1 FROM batches WHERE task_id = $1 AND after_key = $2", task_id,
                           key)
                .empty();
  });
}

void append_chain_batch(pqxx::work& tx, const std::string& task_id, int batch_no,
                        const std::string& key) {
  // A task cancelled or failed meanwhile gets its next batch skipped: nothing will run it, and a
  // pending row would keep the task from ever looking settled.
  tx.exec_params(
      "INSERT INTO batches (task_id, batch_no, first_page, last_page, after_key, state) "
      "SELECT $1, $2 + 1, $2 + 2, $2 + 2, $3, "
      "CASE WHEN t.status = 'running' THEN 'pending' ELSE 'skipped' END FROM tasks t "
      "WHERE t.id = $1",
      task_id, batch_no, key);
  tx.exec_params(
      "UPDATE tasks SET batches_total = batches_total + 1, "
      "total_pages = greatest(coalesce(total_pages, 0), $2 + 2), updated_at = now() WHERE id = $1",
      task_id, batch_no);
}

void record_batch_cursor(pqxx::work& tx, const std::string& task_id, int batch_no,
                         const std::string& max_value, const std::vector<std::string>& keys) {
  tx.exec_params(
      "UPDATE batches SET cursor_max = $3::timestamptz, "
      "cursor_keys = ARRAY(SELECT jsonb_array_elements_text($4::jsonb)) "
      "WHERE task_id = $1 AND batch_no = $2",
      task_id, batch_no, max_value, keys_json(keys));
}

void finish_task_cursor(pqxx::work& tx, const std::string& task_id) {
  // The keys at the task's highest value come from every batch that delivered it (a value
  // shared across a page boundary).
  tx.exec_params(
      "UPDATE tasks SET cursor_after = (SELECT max(cursor_max) FROM batches WHERE task_id = $1) "
      "WHERE id = $1 AND cursor_start IS NOT NULL",
      task_id);
  tx.exec_params(
      "WITH t AS (SELECT id, pipeline, cursor_after AS v FROM tasks "
      "           WHERE id = $1 AND cursor_advances AND cursor_after IS NOT NULL), "
      "k AS (SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') AS keys "
      "      FROM t JOIN batches b ON b.task_id = t.id AND b.cursor_max = t.v, "
      "      unnest(b.cursor_keys) AS x) "
      "INSERT INTO pipeline_cursors (pipeline, value, keys, task_id) "
      "SELECT t.pipeline, t.v, k.keys, t.id FROM t, k "
      "ON CONFLICT (pipeline) DO UPDATE SET "
      "keys = CASE WHEN EXCLUDED.value = pipeline_cursors.value THEN "
      "  ARRAY(SELECT DISTINCT y FROM unnest(pipeline_cursors.keys || EXCLUDED.keys) AS y "
      "        ORDER BY y) "
      "  ELSE EXCLUDED.keys END, "
      "value = EXCLUDED.value, task_id = EXCLUDED.task_id, updated_at = now() "
      "WHERE EXCLUDED.value >= pipeline_cursors.value",
      task_id);
}

}  // namespace etl
