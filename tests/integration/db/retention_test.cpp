// The retention clean-up against a real Postgres: finished tasks older than the cutoff go with
// their batches, claimed ids and rejected records; queued, running and recent tasks stay; a
// second server holding the clean-up lock makes a pass do nothing.
#include "etl/db/retention.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <pqxx/pqxx>

#include "db_test_env.hpp"
#include "etl/test/aged_task.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;

class retention : public db_test {
 protected:
  std::int64_t count(pqxx::connection& c, const std::string& table, const std::string& id) {
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("SELECT count(*) FROM " + table + " WHERE " +
                          (table == "tasks" ? "id" : "task_id") + " = $1",
                      id)[0]
        .as<std::int64_t>();
  }

  // The task and every row hanging off it: 1 + 1 + 3 + 1 when whole, 0 when deleted.
  std::int64_t rows_of(pqxx::connection& c, const std::string& id) {
    return count(c, "tasks", id) + count(c, "batches", id) + count(c, "task_ids", id) +
           count(c, "rejected_records", id);
  }
};

TEST_F(retention, old_finished_tasks_go_with_their_rows_and_live_or_recent_ones_stay) {
  pqxx::connection c(url_);
  const std::vector<std::string> old = {
      insert_aged_task(c, "succeeded", "40 days"), insert_aged_task(c, "failed", "35 days"),
      insert_aged_task(c, "cancelled", "31 days"), insert_aged_task(c, "succeeded", "90 days"),
      insert_aged_task(c, "failed", "400 days")};
  const auto running = insert_aged_task(c, "running", "60 days");
  const auto queued = insert_aged_task(c, "queued", "60 days");
  const auto recent = insert_aged_task(c, "succeeded", "29 days");
  const auto cutoff = std::chrono::system_clock::now() - 30 * 24h;

  // Chunks of 2: five old tasks take three transactions.
  auto r = purge_finished_tasks_blocking(*db_, cutoff, 2);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->ran);
  EXPECT_EQ(r->tasks, 5);
  for (const auto& id : old)
    EXPECT_EQ(rows_of(c, id), 0) << id;
  for (const auto& id : {running, queued, recent})
    EXPECT_EQ(rows_of(c, id), 6) << id;

  // Idempotent: nothing left to delete.
  auto again = purge_finished_tasks_blocking(*db_, cutoff, 2);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->tasks, 0);
}

TEST_F(retention, a_pass_does_nothing_while_another_server_sweeps) {
  pqxx::connection c(url_);
  const auto old = insert_aged_task(c, "succeeded", "40 days");
  const auto cutoff = std::chrono::system_clock::now() - 30 * 24h;
  pqxx::connection other(url_);
  {
    pqxx::nontransaction tx(other);
    ASSERT_TRUE(tx.exec1("SELECT pg_try_advisory_lock(x'65746c72'::bigint)")[0].as<bool>());
  }
  auto blocked = purge_finished_tasks_blocking(*db_, cutoff);
  ASSERT_TRUE(blocked) << blocked.error().message();
  EXPECT_FALSE(blocked->ran);
  EXPECT_EQ(rows_of(c, old), 6);
  {
    pqxx::nontransaction tx(other);
    tx.exec1("SELECT pg_advisory_unlock(x'65746c72'::bigint)");
  }
  auto swept = purge_finished_tasks_blocking(*db_, cutoff);
  ASSERT_TRUE(swept) << swept.error().message();
  EXPECT_TRUE(swept->ran);
  EXPECT_EQ(swept->tasks, 1);
  EXPECT_EQ(rows_of(c, old), 0);
  // The pass let its lock go: the other server can take it now.
  pqxx::nontransaction tx(other);
  EXPECT_TRUE(tx.exec1("SELECT pg_try_advisory_lock(x'65746c72'::bigint)")[0].as<bool>());
}

}  // namespace
}  // namespace etl::test
