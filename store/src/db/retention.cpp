#include "etl/db/retention.hpp"

#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace etl {
namespace {

// The session advisory lock of the clean-up ("etlr"); migrations and triggers use others.
constexpr std::int64_t purge_lock_key = 0x65746c72;

// The chunk's tasks are locked SKIP LOCKED: a row some transaction holds is left for next time
// rather than waited for. Their batches and the rest go by the foreign keys' cascade; task_ids
// has no key (migration 0011), so its rows are deleted here, in the same statement.
constexpr const char* delete_chunk = R"(
  WITH doomed AS (
    SELECT id FROM tasks
    WHERE status IN ('succeeded', 'failed', 'cancelled')
      AND finished_at < to_timestamp($1::double precision / 1e6)
    ORDER BY finished_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), ids AS (
    DELETE FROM task_ids i USING doomed d WHERE i.task_id = d.id
  )
  DELETE FROM tasks t USING doomed d WHERE t.id = d.id)";

// Microseconds since the epoch: exact in a double precision (below 2^53 for 285 years).
std::string timestamp_text(std::chrono::system_clock::time_point t) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  return std::to_string(us);
}

}  // namespace

result<purge_report> purge_finished_tasks_blocking(db_pool& db,
                                                   std::chrono::system_clock::time_point cutoff,
                                                   std::size_t chunk,
                                                   const std::atomic<bool>* stop) {
  const auto cutoff_us = timestamp_text(cutoff);
  const auto limit = static_cast<std::int64_t>(std::max<std::size_t>(chunk, 1));
  return db.run_connection_sync<purge_report>([&](pqxx::connection& c) {
    purge_report report;
    {
      pqxx::nontransaction tx(c);
      if (!tx.exec_params1("SELECT pg_try_advisory_lock($1)", purge_lock_key)[0].as<bool>())
        return report;
    }
    report.ran = true;
    try {
      for (;;) {
        pqxx::work tx(c);
        const auto deleted = tx.exec_params(delete_chunk, cutoff_us, limit).affected_rows();
        tx.commit();
        report.tasks += static_cast<std::int64_t>(deleted);
        if (static_cast<std::int64_t>(deleted) < limit || (stop && stop->load()))
          break;
      }
    } catch (...) {
      // The lock belongs to the session: a pooled connection that lives on must not keep it.
      try {
        pqxx::nontransaction tx(c);
        tx.exec_params("SELECT pg_advisory_unlock($1)", purge_lock_key);
      } catch (...) {
      }
      throw;
    }
    pqxx::nontransaction tx(c);
    tx.exec_params("SELECT pg_advisory_unlock($1)", purge_lock_key);
    return report;
  });
}

}  // namespace etl
