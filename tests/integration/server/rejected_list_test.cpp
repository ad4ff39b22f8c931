// GET /extractor/tasks/{id}/rejected against a running stack: a task whose source sends records
// of the wrong types lists every rejected record once, with its reason, a page at a time; an
// unknown task is 404, bad parameters 400, another method 405.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;

TEST(rejected_list, pages_through_every_rejected_record_of_a_task_with_its_reason) {
  auto stack = make_service_stack(
      {"--seed", "71", "--pages", "30", "--chaos-percent", "0", "--fault-wrong-types", "5"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto rejected = num(t.at("counts").as_object(), "rejected");
  ASSERT_GT(rejected, 2) << "the seed must reject a few records: " << json::serialize(t);

  std::set<std::int64_t> animals;
  std::int64_t listed = 0;
  std::string target = "/extractor/tasks/" + id + "/rejected?limit=2";
  for (int pages = 0; pages < 100; ++pages) {
    const auto page = stack.get_json(target, 200);
    ASSERT_EQ(page.at("task_id").as_string(), id);
    const auto& records = page.at("rejected").as_array();
    EXPECT_LE(records.size(), 2u);
    for (const auto& v : records) {
      const auto& r = v.as_object();
      ++listed;
      EXPECT_FALSE(r.at("reason").as_string().empty()) << json::serialize(r);
      EXPECT_NE(r.at("reason").as_string().find("must be"), json::string::npos)
          << json::serialize(r);
      EXPECT_TRUE(r.at("raw").is_string()) << json::serialize(r);
      EXPECT_GE(r.at("batch").to_number<int>(), 0);
      if (r.at("animal_id").is_int64()) {
        EXPECT_TRUE(animals.insert(r.at("animal_id").as_int64()).second) << json::serialize(r);
      }
    }
    if (page.at("next_cursor").is_null())
      break;
    target = "/extractor/tasks/" + id +
             "/rejected?limit=2&cursor=" + std::string(page.at("next_cursor").as_string());
  }
  EXPECT_EQ(listed, rejected);

  // The whole list in one page, with the trailing slash.
  const auto all = stack.get_json("/extractor/tasks/" + id + "/rejected/?limit=100", 200);
  EXPECT_EQ(static_cast<std::int64_t>(all.at("rejected").as_array().size()), rejected);
  EXPECT_TRUE(all.at("next_cursor").is_null());
}

TEST(rejected_list, unknown_tasks_bad_parameters_and_other_methods_are_refused) {
  auto stack = make_service_stack({"--pages", "1", "--chaos-percent", "0"});
  const std::string unknown = "/extractor/tasks/0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e/rejected";
  EXPECT_EQ(stack.get_json(unknown, 404).at("error").as_string(), "task_not_found");
  EXPECT_EQ(stack.get_json("/extractor/tasks/not-a-task/rejected", 400).at("error").as_string(),
            "invalid_task_id");
  const auto id = stack.trigger(false);
  const auto base = "/extractor/tasks/" + id + "/rejected";
  EXPECT_EQ(stack.get_json(base, 200).at("rejected").as_array().size(), 0u);
  EXPECT_EQ(stack.get_json(base + "?limit=0", 400).at("error").as_string(), "invalid_parameter");
  EXPECT_EQ(stack.get_json(base + "?limit=101", 400).at("error").as_string(), "invalid_parameter");
  EXPECT_EQ(stack.get_json(base + "?cursor=zzz", 400).at("error").as_string(), "invalid_cursor");
  EXPECT_EQ(stack.get_json(base + "?page=2", 400).at("error").as_string(), "unknown_parameter");
  auto post = http_post(stack.port(), base, "");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow"), "GET");
}

}  // namespace
}  // namespace etl::test
