// Schedules: a pipeline whose spec runs every minute, turned on by ETL_SCHEDULES, gets a task at
// the next minute (not at start-up: deploying is not a run), with its default parameters and the
// Idempotency-Key of that minute; GET /extractor/schedules shows it, and a schedule the setting
// leaves off, with their next runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* every_minute = R"(name: crew-every-minute
description: SpaceX crew as JSON Lines, every minute (a schedule test).
schedule: {cron: "* * * * *"}
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:3124", env: ETL_SPACEX_URL}
  path: /v4/crew
  key: id
  paginator: {kind: single}
transform:
  fields:
    id: {type: string}
    name: {type: string, nullable: true}
sinks:
  - {kind: files, format: jsonl, folder: crew}
)";

// The tasks of `pipeline`, newest first, as GET /extractor/tasks lists them.
std::vector<json::object> tasks_of(service_stack& stack, const std::string& pipeline) {
  std::vector<json::object> out;
  const auto list = stack.get_json("/extractor/tasks?limit=100");  // kept: the loop reads it
  for (const auto& t : list.at("tasks").as_array()) {
    if (t.at("pipeline").as_string() == pipeline)
      out.push_back(t.as_object());
  }
  return out;
}

TEST(schedules, an_enabled_schedule_starts_one_task_at_its_next_minute) {
  std::string why;
  auto spacex = sim_process::start_binary("spacex-sim", {"--seed", "7"}, 10s, &why);
  ASSERT_TRUE(spacex) << why;
  const auto dir = fs::temp_directory_path() / ("etl-schedules-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "specs");
  std::ofstream(dir / "specs" / "every-minute.yaml") << every_minute;
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_SPACEX_URL=" + spacex->base_url(),
                                     "ETL_OUTPUT_DIR=" + (dir / "out").string(),
                                     "ETL_PIPELINES_DIR=" + (dir / "specs").string(),
                                     "ETL_SCHEDULES=crew-every-minute"}});

  const auto listed = stack.get_json("/extractor/schedules").at("schedules").as_array();
  ASSERT_EQ(listed.size(), 3u) << json::serialize(listed);
  // The shipped specs first: crunchbase-orgs and spacex-launches (daily, left off by the
  // setting), then the test's.
  EXPECT_EQ(listed[0].at("pipeline").as_string(), "crunchbase-orgs");
  EXPECT_FALSE(listed[0].at("enabled").as_bool());
  EXPECT_TRUE(listed[0].at("next_run").as_string().ends_with("T03:00:00Z"));
  EXPECT_EQ(listed[1].at("pipeline").as_string(), "spacex-launches");
  EXPECT_FALSE(listed[1].at("enabled").as_bool());
  EXPECT_TRUE(listed[1].at("next_run").as_string().ends_with("T02:30:00Z"));
  EXPECT_EQ(listed[2].at("pipeline").as_string(), "crew-every-minute");
  EXPECT_TRUE(listed[2].at("enabled").as_bool());
  // Nothing at start-up.
  EXPECT_TRUE(tasks_of(stack, "crew-every-minute").empty());

  // The next minute's run: within 61 s plus the scheduler's second of margin.
  std::vector<json::object> tasks;
  const auto deadline = std::chrono::steady_clock::now() + 75s;
  while (tasks.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(500ms);  // polling the task list, not a synchronization
    tasks = tasks_of(stack, "crew-every-minute");
  }
  ASSERT_EQ(tasks.size(), 1u) << stack.log_tail();
  const auto id = std::string(tasks[0].at("task_id").as_string());
  const auto t = stack.wait_finished(id, 60s);
  EXPECT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 30);

  const auto after = stack.get_json("/extractor/schedules").at("schedules").as_array();
  ASSERT_EQ(after.size(), 3u);
  ASSERT_TRUE(after[2].at("last_run").is_object()) << json::serialize(after);
  const auto& last = after[2].at("last_run").as_object();
  EXPECT_EQ(last.at("task_id").as_string(), id) << json::serialize(after);
  // The run's time is a whole minute, and the next run the minute after it.
  const auto at = std::string(last.at("at").as_string());
  EXPECT_TRUE(at.ends_with(":00Z")) << at;
  EXPECT_GT(std::string(after[2].at("next_run").as_string()), at);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace etl::test
