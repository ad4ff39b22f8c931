// GET /extractor/tasks against a running etl-server with real Redis and Postgres: paging newest
// first without repeats, the limit's bounds, a bad cursor, an empty list.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

// The API alone: listing needs no workers (the tasks stay queued).
service_stack_options api_only() {
  service_stack_options o;
  o.start_worker = false;
  return o;
}

TEST(task_list, an_empty_database_lists_no_tasks) {
  service_stack stack(api_only());
  const auto page = stack.get_json("/extractor/tasks", 200);
  ASSERT_TRUE(page.contains("tasks"));
  EXPECT_TRUE(page.at("tasks").as_array().empty());
  EXPECT_TRUE(page.at("next_cursor").is_null());
}

TEST(task_list, pages_through_every_task_newest_first_without_repeats) {
  service_stack stack(api_only());
  std::vector<std::string> created;  // oldest first
  for (int i = 0; i < 25; ++i)
    created.push_back(stack.trigger(i % 2 == 0));
  ASSERT_EQ(created.size(), 25u);

  std::vector<std::string> listed;
  std::vector<std::size_t> sizes;
  std::string target = "/extractor/tasks?limit=10";
  for (int guard = 0; guard < 5; ++guard) {
    const auto page = stack.get_json(target, 200);
    ASSERT_TRUE(page.contains("tasks")) << json::serialize(page);
    const auto& tasks = page.at("tasks").as_array();
    sizes.push_back(tasks.size());
    for (const auto& t : tasks) {
      // The same object as GET /extractor/tasks/{id}.
      const auto id = std::string(t.at("task_id").as_string());
      EXPECT_EQ(json::value(stack.task(id)), t) << id;
      listed.push_back(id);
    }
    if (page.at("next_cursor").is_null())
      break;
    target = "/extractor/tasks?limit=10&cursor=" + std::string(page.at("next_cursor").as_string());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 5}));
  const std::vector<std::string> newest_first(created.rbegin(), created.rend());
  EXPECT_EQ(listed, newest_first);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()).size(), 25u);

  // No limit: the default of 20.
  EXPECT_EQ(stack.get_json("/extractor/tasks", 200).at("tasks").as_array().size(), 20u);
  EXPECT_EQ(stack.get_json("/extractor/tasks/?limit=100", 200).at("tasks").as_array().size(), 25u);
}

TEST(task_list, filters_by_pipeline_across_pages) {
  service_stack stack(api_only());
  std::set<std::string> crew;
  for (int i = 0; i < 5; ++i) {
    stack.trigger(false);
    if (i < 3)
      crew.insert(stack.trigger_json(R"({"pipeline": "spacex-crew"})"));
  }
  // Three spacex-crew tasks among eight, two a page: every one once, none of another pipeline.
  std::set<std::string> listed;
  std::string target = "/extractor/tasks?pipeline=spacex-crew&limit=2";
  for (int pages = 0; pages < 5; ++pages) {
    const auto page = stack.get_json(target, 200);
    for (const auto& t : page.at("tasks").as_array()) {
      EXPECT_EQ(t.at("pipeline").as_string(), "spacex-crew");
      listed.insert(std::string(t.at("task_id").as_string()));
    }
    if (page.at("next_cursor").is_null())
      break;
    target = "/extractor/tasks?pipeline=spacex-crew&limit=2&cursor=" +
             std::string(page.at("next_cursor").as_string());
  }
  EXPECT_EQ(listed, crew);
  EXPECT_EQ(stack.get_json("/extractor/tasks?pipeline=animals", 200).at("tasks").as_array().size(),
            5u);
  // A pipeline without tasks lists none; a name that cannot be one is a 400 naming it.
  EXPECT_TRUE(
      stack.get_json("/extractor/tasks?pipeline=randomuser", 200).at("tasks").as_array().empty());
  const auto e = stack.get_json("/extractor/tasks?pipeline=Spacex%20Crew", 400);
  EXPECT_EQ(e.at("error").as_string(), "invalid_parameter");
  EXPECT_NE(std::string(e.at("detail").as_string()).find("pipeline"), std::string::npos);
}

TEST(task_list, a_bad_limit_or_cursor_or_parameter_is_a_400_naming_it) {
  service_stack stack(api_only());
  for (const char* limit : {"0", "101", "-1", "ten", "", "1.5", "99999999999"}) {
    const auto e = stack.get_json(std::string("/extractor/tasks?limit=") + limit, 400);
    EXPECT_EQ(e.at("error").as_string(), "invalid_parameter") << limit;
    EXPECT_NE(std::string(e.at("detail").as_string()).find("limit"), std::string::npos) << limit;
  }
  // Not base64url; base64url of text without ':'; of "<time>:<not a uuid>"; of a negative time.
  for (const char* cursor : {"%%%", "bm90IGEgY3Vyc29y", "MTIzOm5vdC1hLXV1aWQ",
                             "LTE6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw", "", "A"}) {
    const auto e = stack.get_json(std::string("/extractor/tasks?cursor=") + cursor, 400);
    EXPECT_EQ(e.at("error").as_string(), "invalid_cursor") << cursor;
    EXPECT_NE(std::string(e.at("detail").as_string()).find("cursor"), std::string::npos);
  }
  const auto e = stack.get_json("/extractor/tasks?status=running", 400);
  EXPECT_EQ(e.at("error").as_string(), "unknown_parameter");
  EXPECT_NE(std::string(e.at("detail").as_string()).find("status"), std::string::npos);

  auto post = http_post(stack.port(), "/extractor/tasks", "");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405) << post->body;
  EXPECT_EQ(post->header("allow"), "GET");
}

}  // namespace
}  // namespace etl::test
