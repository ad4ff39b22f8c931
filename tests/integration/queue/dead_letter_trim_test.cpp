// The retention of the dead-letter stream: entries older than a point in time are trimmed,
// younger ones stay, against a real redis-server.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "etl/queue/job_queue.hpp"
#include "etl/test/redis_server.hpp"
#include "etl/test/redis_test_options.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

std::string entry_id_at(sys::time_point t) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) +
         "-0";
}

TEST(dead_letter_retention, entries_older_than_the_cutoff_are_trimmed) {
  test::redis_server server;
  job_queue q(redis_test_options(server));
  redis_connection conn(redis_test_options(server));
  const auto now = sys::now();
  // Dead letters as the queue writes them, with ids (XADD times) 40, 35 and 1 days ago and now.
  for (auto age : {40 * 24h, 35 * 24h, 24h, 0h}) {
    auto r = conn.command({"XADD", "etl:jobs:dead", entry_id_at(now - age), "type", "batch", "task",
                           "t", "reason", "delivered 6 times"});
    ASSERT_TRUE(r && r->is_text()) << (r ? r->str : r.error().message());
  }
  auto trimmed = q.trim_dead_blocking(now - 30 * 24h);
  ASSERT_TRUE(trimmed) << trimmed.error().message();
  EXPECT_EQ(*trimmed, 2);
  auto stats = q.stats_blocking();
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->dead_letter_length, 2);
  // What is left is the young ones, as the workers' start-up reading sees them.
  auto recent = q.recent_dead_blocking(48h, 10);
  ASSERT_TRUE(recent) << recent.error().message();
  EXPECT_EQ(recent->size(), 2u);
  // Again: nothing more to trim; and a stream that does not exist is not an error.
  auto again = q.trim_dead_blocking(now - 30 * 24h);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  ASSERT_TRUE(conn.command({"DEL", "etl:jobs:dead"}));
  auto none = q.trim_dead_blocking(now);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_EQ(*none, 0);
}

}  // namespace
}  // namespace etl
