// A source's access to its upstream through the whole service, against crunchbase-sim's
// autocomplete (GET /api/v4/autocompletes): the API key read from an environment variable named
// in the spec (sent in a header or the query), and the pool-wide rate limit (one token bucket
// in Redis shared by every worker process).
//
// Auth: a right key reads the organizations; a missing variable fails the task at once with the
// variable's name; a wrong key fails it with the simulator's own error; and neither key's value
// appears in the services' log (at debug level), a task's JSON or /metrics.
// Rate limit: two worker processes run 40 one-request tasks against a simulator that allows 20
// calls per 2 s window; the simulator counts at most 20 in every window, refuses none, and every
// task succeeds. Without the spec's rate_limit (the control) the same tasks overrun the quota.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

// Values no other text of the stack could hold by chance.
const std::string right_key = "k3y-7c1e5a9f-right";
const std::string wrong_key = "k3y-40b2d6e8-wrong";

// A pipeline over crunchbase-sim's autocomplete, its records into JSON Lines files.
std::string spec(const std::string& name, const std::string& auth, const std::string& limit) {
  std::string s = "name: " + name + R"(
parameters:
  query: {type: string, default: a}
source:
  kind: rest
  base_url: {env: ETL_CB_ACCESS_URL, default: "http://127.0.0.1:3126"}
  path: /api/v4/autocompletes
  query: {query: "{params.query}", collection_ids: organizations, limit: "25"}
  records: entities
  key: uuid
  paginator: {kind: single}
)";
  if (!auth.empty())
    s += "  auth: " + auth + "\n";
  if (!limit.empty())
    s += "  rate_limit: " + limit + "\n";
  return s + R"(transform:
  fields:
    uuid: {type: string, from: identifier.uuid}
    name: {type: string, from: identifier.value}
sinks:
  - {kind: files, format: jsonl, folder: )" +
         name + "}\n";
}

// The fixture's folders: the specs (written by the test) and the files sink's output.
struct fixture_dirs {
  fs::path root = fs::temp_directory_path() / ("etl-access-" + std::to_string(::getpid()));
  fs::path specs = root / "specs";
  fs::path output = root / "output";
  fixture_dirs() {
    fs::remove_all(root);
    fs::create_directories(specs);
    fs::create_directories(output);
  }
  ~fixture_dirs() { fs::remove_all(root); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(specs / (name + ".yaml")) << text;
  }
  std::vector<std::string> env() const {
    return {"ETL_PIPELINES_DIR=" + specs.string(), "ETL_OUTPUT_DIR=" + output.string()};
  }
};

std::string trigger(service_stack& stack, const std::string& pipeline) {
  auto r =
      http_post(stack.port(), "/extractor/trigger-task", R"({"pipeline": ")" + pipeline + R"("})");
  EXPECT_TRUE(r && r->status == 202) << (r ? r->body : r.error().message());
  if (!r || r->status != 202)
    return {};
  return std::string(json::parse(r->body).at("task_id").as_string());
}

// The API calls the simulator answered, by their statuses (its `requests` counts /sim/ too).
std::int64_t api_calls(const sim_process& sim) {
  std::int64_t n = 0;
  const auto report = sim.report().value();
  for (const auto& [status, count] : report.at("statuses").as_object())
    n += count.to_number<std::int64_t>();
  return n;
}

std::string whole_log(service_stack& stack) {
  std::ifstream in(stack.audit_dir() / "service.log");
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

TEST(source_access, an_api_key_from_the_environment_reaches_the_upstream_and_nothing_else) {
  fixture_dirs dirs;
  // Both auths share one origin, hence one rate limit; it is loose enough not to matter here.
  const std::string limit = "{requests: 100, per_seconds: 1}";
  dirs.write("cb-header", spec("cb-header", "{env: CB_API_KEY, header: X-cb-user-key}", limit));
  dirs.write("cb-query", spec("cb-query", "{env: CB_QUERY_KEY, query: user_key}", limit));
  dirs.write("cb-missing", spec("cb-missing", "{env: CB_MISSING_KEY, header: X-cb-user-key}", ""));
  dirs.write("cb-wrong", spec("cb-wrong", "{env: CB_WRONG_KEY, header: X-cb-user-key}", ""));
  std::string why;
  // Chaos: immediate 5xx answers (no pauses) make the client retry, and log each retry's target
  // at debug level, the query secret's included (with this seed the third API request, the
  // second cb-query's, is answered 504).
  auto cb = sim_process::start_binary("crunchbase-sim",
                                      {"--seed", "7", "--key", right_key, "--chaos-percent", "60",
                                       "--pause-min", "0", "--pause-max", "0"},
                                      10s, &why);
  ASSERT_TRUE(cb) << why;
  auto env = dirs.env();
  env.insert(env.end(), {"ETL_CB_ACCESS_URL=" + cb->base_url(), "CB_API_KEY=" + right_key,
                         "CB_QUERY_KEY=" + right_key, "CB_WRONG_KEY=" + wrong_key,
                         // Every line the client may write, targets included.
                         "ETL_LOG_LEVEL=debug",
                         // A wrong key is retried as any refusal is; two deliveries keep it short.
                         "ETL_MAX_DELIVERIES=2"});
  service_stack stack({.sim_args = {"--chaos-percent", "0"}, .extra_env = env});

  std::vector<std::string> ids;
  for (const auto* name : {"cb-query", "cb-header", "cb-query"}) {
    const auto id = trigger(stack, name);
    ASSERT_FALSE(id.empty());
    ids.push_back(id);
    const auto t = stack.wait_finished(id, 60s);
    ASSERT_EQ(t.at("status").as_string(), "succeeded")
        << name << ": " << json::serialize(t) << stack.log_tail();
    EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 25) << name << ": " << json::serialize(t);
  }

  // No variable: the task fails at once (no retry, no request), naming the variable.
  const auto before = api_calls(*cb);
  const auto started = steady::now();
  const auto missing = trigger(stack, "cb-missing");
  ASSERT_FALSE(missing.empty());
  ids.push_back(missing);
  auto t = stack.wait_finished(missing, 30s);
  const auto took = steady::now() - started;
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("CB_MISSING_KEY"), std::string::npos) << errors;
  EXPECT_LT(took, 5s) << "not failed at once: a retry loop?";
  EXPECT_EQ(api_calls(*cb), before) << "a request went out without its key";
  std::printf(
      "missing key: task failed in %lld ms: %s\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
      errors.c_str());

  // A wrong key: the simulator's 401 and its error code end up in the task's errors.
  const auto wrong = trigger(stack, "cb-wrong");
  ASSERT_FALSE(wrong.empty());
  ids.push_back(wrong);
  t = stack.wait_finished(wrong, 60s);
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  const auto wrong_errors = json::serialize(t.at("errors"));
  EXPECT_NE(wrong_errors.find("401"), std::string::npos) << wrong_errors;
  EXPECT_NE(wrong_errors.find("invalid user key"), std::string::npos) << wrong_errors;
  std::printf("wrong key: %s\n", wrong_errors.c_str());

  // The keys' values: in no task, not in /metrics, not in any log line.
  for (const auto& id : ids) {
    auto r = http_get(stack.port(), "/extractor/tasks/" + id);
    ASSERT_TRUE(r && r->status == 200);
    EXPECT_EQ(r->body.find(right_key), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find(wrong_key), std::string::npos) << r->body;
  }
  auto metrics = http_get(stack.port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_EQ(metrics->body.find(right_key), std::string::npos);
  EXPECT_EQ(metrics->body.find(wrong_key), std::string::npos);
  stack.worker().stop(10s);  // its last lines written
  const auto log = whole_log(stack);
  EXPECT_GT(log.size(), 1000u) << "no log to search";
  EXPECT_EQ(log.find(right_key), std::string::npos) << "the key is in the log";
  EXPECT_EQ(log.find(wrong_key), std::string::npos) << "the wrong key is in the log";
  EXPECT_NE(log.find("CB_MISSING_KEY"), std::string::npos);
  EXPECT_NE(log.find("user_key=***"), std::string::npos) << "no retry of the query secret logged";
  std::printf("log searched: %zu bytes\n", log.size());
}

// What the simulator saw of 40 one-request tasks run by two worker processes.
struct limited_run {
  std::int64_t requests = 0;    // API calls answered, refused ones included
  std::int64_t per_window = 0;  // calls in the busiest 2 s window
  std::int64_t refused = 0;     // 429s for calls over 20 a window
  std::chrono::milliseconds took{0};
  std::string log;
};

limited_run run_forty_tasks(const std::string& limit) {
  limited_run out;
  fixture_dirs dirs;
  dirs.write("cb-limited", spec("cb-limited", "{env: CB_API_KEY, header: X-cb-user-key}", limit));
  std::string why;
  // The simulator enforces the quota, in fixed 2 s windows of its own clock: a call over it is
  // refused (429, no Retry-After) and counted in `rate_limited`.
  auto cb = sim_process::start_binary(
      "crunchbase-sim",
      {"--seed", "7", "--key", right_key, "--rate-limit", "20", "--rate-window", "2"}, 10s, &why);
  EXPECT_TRUE(cb) << why;
  if (!cb)
    return out;
  auto env = dirs.env();
  env.insert(env.end(), {"ETL_CB_ACCESS_URL=" + cb->base_url(), "CB_API_KEY=" + right_key,
                         "ETL_WORKER_PROCESSES=2", "ETL_JOBS=8"});
  service_stack stack({.sim_args = {"--chaos-percent", "0"}, .extra_env = env});
  // Both worker processes are up before the tasks come.
  const auto up_by = steady::now() + 10s;
  while (children_of(stack.worker().pid()).size() < 2 && steady::now() < up_by)
    std::this_thread::sleep_for(20ms);  // polling a condition, bounded by the deadline
  EXPECT_EQ(children_of(stack.worker().pid()).size(), 2u);

  constexpr int tasks = 40;
  std::vector<std::string> ids;
  const auto started = steady::now();
  for (int i = 0; i < tasks; ++i)
    ids.push_back(trigger(stack, "cb-limited"));
  for (const auto& id : ids) {
    const auto t = stack.wait_finished(id, 60s);
    EXPECT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  const auto report = cb->report().value().as_object();
  out.per_window = num(report, "calls_per_window_max");
  out.refused = num(report, "rate_limited");
  out.requests = api_calls(*cb);
  stack.worker().stop(10s);
  out.log = whole_log(stack);
  std::printf(
      "%s: %d tasks, %lld API calls in %lld ms; calls_per_window_max %lld (quota 20 per "
      "2 s), rate_limited %lld\n",
      limit.empty() ? "no rate_limit" : limit.c_str(), tasks, static_cast<long long>(out.requests),
      static_cast<long long>(out.took.count()), static_cast<long long>(out.per_window),
      static_cast<long long>(out.refused));
  return out;
}

TEST(source_access, two_worker_processes_share_one_rate_limit) {
  const auto run = run_forty_tasks("{requests: 20, per_seconds: 2}");
  EXPECT_EQ(run.requests, 40);
  EXPECT_LE(run.per_window, 20);
  EXPECT_EQ(run.refused, 0);
  // 40 calls at 19 per 2 s after the first take about 4 s: the limit did hold them back.
  EXPECT_GE(run.took, 3500ms);
  // Both processes fetched: they shared the one bucket.
  for (const char* worker : {"etl-worker.0[", "etl-worker.1["}) {
    bool fetched = false;
    std::istringstream lines(run.log);
    for (std::string line; std::getline(lines, line) && !fetched;)
      fetched = line.find(worker) != std::string::npos &&
                line.find("records delivered") != std::string::npos;
    EXPECT_TRUE(fetched) << worker << " delivered no batch";
  }
}

TEST(source_access, without_the_rate_limit_the_same_tasks_overrun_the_quota) {
  // The control: what the test above would see if the limit did not hold. The tasks still
  // finish: 429 without Retry-After is retried after the backoff, and a batch handed back.
  const auto run = run_forty_tasks("");
  EXPECT_GT(run.per_window, 20);
  EXPECT_GT(run.refused, 0);
}

}  // namespace
}  // namespace etl::test
