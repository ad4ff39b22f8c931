#include "etl/server/task_cache.hpp"

#include <gtest/gtest.h>

namespace etl {
namespace {

std::shared_ptr<const std::string> text(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

TEST(task_cache, keeps_what_was_put_and_ignores_a_second_put) {
  task_cache cache;
  EXPECT_EQ(cache.find("a"), nullptr);
  cache.put("a", text("{\"n\":1}"));
  cache.put("a", text("{\"n\":2}"));
  ASSERT_NE(cache.find("a"), nullptr);
  EXPECT_EQ(*cache.find("a"), "{\"n\":1}");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(task_cache, drops_the_oldest_beyond_its_capacity) {
  task_cache cache(2);
  cache.put("a", text("1"));
  cache.put("b", text("2"));
  cache.put("c", text("3"));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
}

}  // namespace
}  // namespace etl
