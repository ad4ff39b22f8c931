#include "etl/db/tasks_repository.hpp"

#include <algorithm>
#include <set>

#include <boost/json/serialize.hpp>
#include <pqxx/result>

#include "etl/core/error.hpp"

namespace etl {
namespace {

constexpr std::size_t max_idempotency_key = 200;
constexpr int max_list_limit = 1000;
// The first key of create_task's pg_advisory_xact_lock(int, int): "idem" as 4 ASCII bytes.
constexpr int idempotency_lock_space = 0x6964656d;

std::string select_tasks(const char* where_and_order) {
  return std::string("SELECT ") + detail::task_columns + " FROM tasks t " + where_and_order;
}

std::vector<batch> read_batches(pqxx::work& tx, const std::string& id) {
  const auto rows = tx.exec_params(std::string("SELECT ") + detail::batch_columns +
                                       " FROM batches b WHERE b.task_id = $1 ORDER BY b.batch_no",
                                   id);
  std::vector<batch> out;
  out.reserve(rows.size());
  for (const auto& row : rows)
    out.push_back(detail::read_batch(row));
  return out;
}

bool valid_plan(int total_pages, const std::vector<batch_plan>& plan) {
  if (total_pages < 0)
    return false;
  std::set<int> seen;
  for (const auto& p : plan) {
    if (p.batch_no < 0 || !seen.insert(p.batch_no).second)
      return false;
    if (p.first_page < 1 || p.first_page > p.last_page || p.last_page > total_pages)
      return false;
  }
  return true;
}

// The status of a task that a conditional UPDATE did not touch; nullopt when there is no task.
std::optional<task_status> current_status(pqxx::work& tx, const std::string& id) {
  const auto rows = tx.exec_params("SELECT status FROM tasks WHERE id = $1", id);
  if (rows.empty())
    return std::nullopt;
  return detail::status_from_db(rows[0][0]);
}

result<task_status> status_or_not_found(result<std::optional<task_status>> r) {
  if (!r)
    return r.error();
  if (!*r)
    return make_error_code(db_errc::not_found);
  return **r;
}

}  // namespace

net::awaitable<result<created_task>> tasks_repository::create_task(
    bool audit_mode, std::optional<std::string> idempotency_key, json::value request,
    std::chrono::milliseconds key_retention, std::string pipeline, json::object params) {
  if (idempotency_key &&
      (idempotency_key->empty() || idempotency_key->size() > max_idempotency_key))
    co_return make_error_code(errc::invalid_argument);
  if (key_retention < std::chrono::milliseconds(1) || pipeline.empty())
    co_return make_error_code(errc::invalid_argument);
  const std::string request_text = json::serialize(request);
  const std::string params_text = json::serialize(params);
  co_return co_await db_->run([&](pqxx::work& tx) {
    if (idempotency_key) {
      // Keys are not unique over all time (migration 0002), so the callers of one key take
      // turns: the lock is held until commit, and under read committed the SELECT after it
      // sees the task a previous holder inserted.
      tx.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", idempotency_lock_space,
                     *idempotency_key);
      const auto found = tx.exec_params(
          std::string("SELECT ") + detail::task_columns +
              ", t.request = $2::jsonb FROM tasks t WHERE t.idempotency_key = $1 "
              "AND t.created_at > now() - $3::bigint * interval '1 millisecond' "
              "ORDER BY t.created_at DESC LIMIT 1",
          *idempotency_key, request_text, static_cast<std::int64_t>(key_retention.count()));
      if (!found.empty()) {
        const auto& row = found[0];
        return created_task{detail::read_task(row), true, row[row.size() - 1].as<bool>()};
      }
    }
    const char* key = idempotency_key ? idempotency_key->c_str() : nullptr;
    const auto rows =
        tx.exec_params1(std::string("INSERT INTO tasks AS t (audit_mode, idempotency_key, request, "
                                    "pipeline, params) VALUES ($1, $2, $3::jsonb, $4, $5::jsonb) "
                                    "RETURNING ") +
                            detail::task_columns,
                        audit_mode, key, request_text, pipeline, params_text);
    return created_task{detail::read_task(rows), false, true};
  });
}

net::awaitable<result<std::optional<task>>> tasks_repository::get_task(std::string id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) -> std::optional<task> {
    const auto rows = tx.exec_params(select_tasks("WHERE t.id = $1"), id);
    if (rows.empty())
      return std::nullopt;
    return detail::read_task(rows[0]);
  });
}

net::awaitable<result<std::optional<task_snapshot>>> tasks_repository::get_task_snapshot(
    std::string id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) -> std::optional<task_snapshot> {
    // One statement, one snapshot: a batch that finishes commits its state and the task's
    // counts together, so either both show here or neither does.
    const auto rows = tx.exec_params(
        std::string("SELECT ") + detail::task_columns +
            ", t.status IN ('succeeded', 'failed', 'cancelled') AND t.in_doubt = 0 AND NOT "
            "EXISTS (SELECT 1 FROM batches b WHERE b.task_id = t.id AND b.state IN ('pending', "
            "'posting')) "
            "FROM tasks t WHERE t.id = $1",
        id);
    if (rows.empty())
      return std::nullopt;
    const auto& row = rows[0];
    return task_snapshot{detail::read_task(row), row[row.size() - 1].as<bool>()};
  });
}

net::awaitable<result<task_page>> tasks_repository::list_tasks(
    int limit, std::optional<task_cursor> after, std::optional<std::string> pipeline) {
  if (limit < 1 || limit > max_list_limit || (after && !is_uuid(after->id)))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    // A null filter: every pipeline's tasks (planned for the value given, so the unfiltered
    // index then).
    const char* filter = pipeline ? pipeline->c_str() : nullptr;
    const pqxx::result rows =
        after ? tx.exec_params(
                    select_tasks("WHERE (t.created_at, t.id) < (timestamptz 'epoch' + $2::bigint "
                                 "* interval '1 microsecond', $3::uuid) "
                                 "AND ($4::text IS NULL OR t.pipeline = $4) "
                                 "ORDER BY t.created_at DESC, t.id DESC LIMIT $1"),
                    limit, static_cast<std::int64_t>(after->created_at.time_since_epoch().count()),
                    after->id, filter)
              : tx.exec_params(select_tasks("WHERE ($2::text IS NULL OR t.pipeline = $2) "
                                            "ORDER BY t.created_at DESC, t.id DESC LIMIT $1"),
                               limit, filter);
    task_page page;
    for (const auto& row : rows)
      page.tasks.push_back(detail::read_task(row));
    if (static_cast<int>(page.tasks.size()) == limit)
      page.next = task_cursor{page.tasks.back().created_at, page.tasks.back().id};
    return page;
  });
}

net::awaitable<result<std::optional<rejected_entries>>> tasks_repository::list_rejected(
    std::string id, int limit, std::int64_t after) {
  if (!is_uuid(id) || limit < 1 || limit > max_list_limit || after < 0)
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) -> std::optional<rejected_entries> {
    if (tx.exec_params("SELECT 1 FROM tasks WHERE id = $1", id).empty())
      return std::nullopt;
    const auto rows = tx.exec_params(
        "SELECT id, batch_no, animal_id, reason, raw FROM rejected_records "
        "WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        id, after, limit);
    rejected_entries page;
    page.records.reserve(rows.size());
    for (const auto& row : rows) {
      rejected_entry e;
      e.row = row[0].as<std::int64_t>();
      e.batch_no = row[1].as<int>();
      if (!row[2].is_null())
        e.animal_id = row[2].as<std::int64_t>();
      e.reason = row[3].as<std::string>();
      if (!row[4].is_null())
        e.raw = row[4].as<std::string>();
      page.records.push_back(std::move(e));
    }
    if (static_cast<int>(page.records.size()) == limit)
      page.next = page.records.back().row;
    return page;
  });
}

net::awaitable<result<started_task>> tasks_repository::start_task(std::string id, int total_pages,
                                                                  std::vector<batch_plan> plan,
                                                                  std::string planner) {
  if (!is_uuid(id) || !valid_plan(total_pages, plan))
    co_return make_error_code(errc::invalid_argument);
  std::vector<std::int64_t> numbers, firsts, lasts;
  for (const auto& p : plan) {
    numbers.push_back(p.batch_no);
    firsts.push_back(p.first_page);
    lasts.push_back(p.last_page);
  }
  auto r = co_await db_->run([&](pqxx::work& tx) -> std::optional<started_task> {
    const auto locked =
        tx.exec_params("SELECT status, planned_by FROM tasks WHERE id = $1 FOR UPDATE", id);
    if (locked.empty())
      return std::nullopt;
    started_task out;
    out.status = detail::status_from_db(locked[0][0]);
    if (out.status != task_status::queued && !planner.empty() && !locked[0][1].is_null() &&
        locked[0][1].as<std::string>() != planner) {
      out.planned_elsewhere = true;
      return out;
    }
    if (out.status == task_status::queued) {
      tx.exec_params(
          "INSERT INTO batches (task_id, batch_no, first_page, last_page) "
          "SELECT $1, n, f, l FROM unnest($2::int[], $3::int[], $4::int[]) AS p(n, f, l) "
          "ON CONFLICT DO NOTHING",
          id, detail::pg_array(numbers), detail::pg_array(firsts), detail::pg_array(lasts));
      out.status = plan.empty() ? task_status::succeeded : task_status::running;
      tx.exec_params(
          "UPDATE tasks SET status = $2, total_pages = $3, batches_total = $4, "
          "started_at = now(), updated_at = now(), planned_by = NULLIF($5, ''), "
          "finished_at = CASE WHEN $2 = 'succeeded' THEN now() END WHERE id = $1",
          id, std::string(to_string(out.status)), total_pages, static_cast<int>(plan.size()),
          planner);
    }
    out.batches = read_batches(tx, id);
    return out;
  });
  if (!r)
    co_return r.error();
  if (!*r)
    co_return make_error_code(db_errc::not_found);
  co_return std::move(**r);
}

net::awaitable<result<void>> tasks_repository::mark_plan_enqueued(std::string id,
                                                                  std::string job_id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    tx.exec_params("UPDATE tasks SET plan_job = $2 WHERE id = $1 AND plan_job IS NULL", id, job_id);
  });
}

net::awaitable<result<std::vector<unqueued_plan>>> tasks_repository::unqueued_plans(
    std::chrono::milliseconds older_than, int limit) {
  if (limit < 1 || limit > max_list_limit)
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "SELECT id, audit_mode, pipeline FROM tasks WHERE plan_job IS NULL AND status = 'queued' "
        "AND created_at < now() - $1::bigint * interval '1 millisecond' "
        "ORDER BY created_at LIMIT $2",
        static_cast<std::int64_t>(older_than.count()), limit);
    std::vector<unqueued_plan> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
      out.push_back({row[0].as<std::string>(), row[1].as<bool>(), row[2].as<std::string>()});
    return out;
  });
}

net::awaitable<result<task_status>> tasks_repository::cancel_task(std::string id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return status_or_not_found(co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "UPDATE tasks SET status = 'cancelled', finished_at = now(), updated_at = now() "
        "WHERE id = $1 AND status IN ('queued', 'running') RETURNING status",
        id);
    if (rows.empty())
      return current_status(tx, id);
    tx.exec_params(
        "UPDATE batches SET state = 'skipped', updated_at = now() "
        "WHERE task_id = $1 AND state = 'pending'",
        id);
    return std::optional(task_status::cancelled);
  }));
}

net::awaitable<result<task_status>> tasks_repository::fail_task(std::string id,
                                                                std::string reason) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return status_or_not_found(co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "UPDATE tasks SET status = 'failed', finished_at = now(), updated_at = now(), "
        "errors = etl_append_error(errors, NULL, $2::text) "
        "WHERE id = $1 AND status IN ('queued', 'running') RETURNING status",
        id, reason);
    if (rows.empty())
      return current_status(tx, id);
    tx.exec_params(
        "UPDATE batches SET state = 'skipped', updated_at = now() "
        "WHERE task_id = $1 AND state = 'pending'",
        id);
    return std::optional(task_status::failed);
  }));
}

net::awaitable<result<void>> tasks_repository::forget_idempotency_key(std::string id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    tx.exec_params("UPDATE tasks SET idempotency_key = NULL WHERE id = $1", id);
  });
}

net::awaitable<result<task_status>> tasks_repository::get_status(std::string id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return status_or_not_found(
      co_await db_->run([&](pqxx::work& tx) { return current_status(tx, id); }));
}

net::awaitable<result<std::vector<batch>>> tasks_repository::list_batches(std::string id) {
  if (!is_uuid(id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) { return read_batches(tx, id); });
}

net::awaitable<result<std::map<std::string, std::map<task_status, std::int64_t>>>>
tasks_repository::count_by_pipeline() {
  co_return co_await db_->run([](pqxx::work& tx) {
    std::map<std::string, std::map<task_status, std::int64_t>> counts;
    for (const auto& row :
         tx.exec("SELECT pipeline, status, count(*) FROM tasks GROUP BY pipeline, status"))
      counts[row[0].as<std::string>()][detail::status_from_db(row[1])] = row[2].as<std::int64_t>();
    return counts;
  });
}

}  // namespace etl
