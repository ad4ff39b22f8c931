#include "etl/db/schedule_store.hpp"

#include <pqxx/pqxx>

namespace etl {

net::awaitable<result<std::vector<schedule_run>>> schedule_store::runs() {
  co_return co_await db_->run([](pqxx::work& tx) {
    std::vector<schedule_run> out;
    for (const auto& row :
         tx.exec("SELECT pipeline, extract(epoch FROM last_due)::bigint, last_task::text, note "
                 "FROM pipeline_schedules ORDER BY pipeline")) {
      schedule_run r;
      r.pipeline = row[0].as<std::string>();
      r.due = std::chrono::sys_seconds(std::chrono::seconds(row[1].as<std::int64_t>()));
      if (!row[2].is_null())
        r.task = row[2].as<std::string>();
      r.note = row[3].as<std::string>();
      out.push_back(std::move(r));
    }
    return out;
  });
}

net::awaitable<result<bool>> schedule_store::record(schedule_run run) {
  co_return co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "INSERT INTO pipeline_schedules (pipeline, last_due, last_task, note) "
        "VALUES ($1, to_timestamp($2), $3::uuid, $4) "
        "ON CONFLICT (pipeline) DO UPDATE SET last_due = EXCLUDED.last_due, "
        "last_task = EXCLUDED.last_task, note = EXCLUDED.note, updated_at = now() "
        "WHERE pipeline_schedules.last_due < EXCLUDED.last_due RETURNING pipeline",
        run.pipeline, static_cast<std::int64_t>(run.due.time_since_epoch().count()),
        run.task ? run.task->c_str() : nullptr, run.note);
    return !rows.empty();
  });
}

}  // namespace etl
