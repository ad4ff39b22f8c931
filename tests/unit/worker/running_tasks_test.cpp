#include "etl/worker/running_tasks.hpp"

#include <gtest/gtest.h>

namespace etl {
namespace {

using std::chrono::milliseconds;

TEST(running_tasks, a_sighting_holds_for_the_ttl_only) {
  running_tasks tasks(milliseconds{1'000});
  const auto t0 = running_tasks::clock::time_point{} + std::chrono::hours{1};
  EXPECT_FALSE(tasks.seen_running("a", t0));
  tasks.saw_running("a", t0);
  EXPECT_TRUE(tasks.seen_running("a", t0));
  EXPECT_TRUE(tasks.seen_running("a", t0 + milliseconds{999}));
  EXPECT_FALSE(tasks.seen_running("a", t0 + milliseconds{1'000}));
  EXPECT_FALSE(tasks.seen_running("b", t0));
  tasks.saw_running("a", t0 + milliseconds{1'500});
  EXPECT_TRUE(tasks.seen_running("a", t0 + milliseconds{2'000}));
}

TEST(running_tasks, keeps_at_most_its_capacity_dropping_the_oldest) {
  running_tasks tasks(milliseconds{10'000}, 2);
  const auto t0 = running_tasks::clock::time_point{} + std::chrono::hours{1};
  tasks.saw_running("a", t0);
  tasks.saw_running("b", t0 + milliseconds{1});
  tasks.saw_running("c", t0 + milliseconds{2});
  EXPECT_FALSE(tasks.seen_running("a", t0 + milliseconds{3}));
  EXPECT_TRUE(tasks.seen_running("b", t0 + milliseconds{3}));
  EXPECT_TRUE(tasks.seen_running("c", t0 + milliseconds{3}));
}

}  // namespace
}  // namespace etl
