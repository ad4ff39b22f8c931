// ETL_RETENTION end to end: an etl-server that starts sweeps at once. Finished tasks older than
// the retention leave Postgres with their rows, old dead letters leave Redis; a running task,
// a recent one and young dead letters stay.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <pqxx/pqxx>

#include "etl/queue/redis_connection.hpp"
#include "etl/test/aged_task.hpp"
#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

bool task_exists(pqxx::connection& c, const std::string& id) {
  pqxx::nontransaction tx(c);
  return tx.exec_params1("SELECT count(*) FROM tasks WHERE id = $1", id)[0].as<int>() == 1;
}

std::int64_t dead_letters(redis_connection& r) {
  auto n = r.command({"XLEN", "etl:jobs:dead"});
  return n ? n->integer : -1;
}

TEST(retention, a_starting_server_deletes_what_is_older_than_etl_retention) {
  service_stack_options o;
  o.start_worker = false;
  o.extra_env = {"ETL_RETENTION=720h"};
  service_stack stack(std::move(o));
  pqxx::connection c(stack.database_url());
  const auto old = insert_aged_task(c, "succeeded", "31 days", 100);
  const auto running = insert_aged_task(c, "running", "31 days", 100);
  const auto recent = insert_aged_task(c, "failed", "29 days", 100);
  auto redis = redis_connection(parse_redis_url(stack.redis().url()).value());
  const auto ms_ago = [](std::chrono::hours h) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              (std::chrono::system_clock::now() - h).time_since_epoch())
                              .count()) +
           "-0";
  };
  for (auto age : {31 * 24h, 1h}) {
    auto r = redis.command({"XADD", "etl:jobs:dead", ms_ago(age), "type", "plan", "reason", "x"});
    ASSERT_TRUE(r && r->is_text());
  }

  // A second server, as a restart or a scale-out would start one: its first pass runs now.
  auto second =
      stack.start("etl-server", {"--listen", "127.0.0.1:" + std::to_string(free_loopback_port())});
  const auto deadline = steady::now() + 20s;
  while ((task_exists(c, old) || dead_letters(redis) != 1) && steady::now() < deadline)
    std::this_thread::sleep_for(50ms);  // polling the stores, bounded by the deadline
  EXPECT_FALSE(task_exists(c, old)) << stack.log_tail();
  EXPECT_EQ(dead_letters(redis), 1) << stack.log_tail();
  EXPECT_TRUE(task_exists(c, running));
  EXPECT_TRUE(task_exists(c, recent));
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM task_ids WHERE task_id = $1", old)[0].as<int>(),
            0);
  EXPECT_EQ(
      tx.exec_params1("SELECT count(*) FROM task_ids WHERE task_id = $1", running)[0].as<int>(),
      100);
  EXPECT_NE(stack.log_tail().find("retention: deleted"), std::string::npos) << stack.log_tail();
}

}  // namespace
}  // namespace etl::test
