// GET /metrics against the whole running system: a task run to its end must show in one scrape
// of the server (its requests by route, tasks by status, the queue, the workers' counters
// gathered through Redis), with counts that agree with the task's own. The text is checked by
// Prometheus's own parser (promtool) when it is installed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "etl/test/child_process.hpp"
#include "etl/test/http.hpp"
#include "etl/test/raw_connection.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using series_map = std::map<std::string, double>;

constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::int64_t num(const json::object& o, std::string_view k) {
  return o.at(k).to_number<std::int64_t>();
}

// The samples of a scrape: "name{labels}" -> value. Comment lines are skipped.
series_map parse_samples(const std::string& text) {
  series_map out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    const auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#')
      continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string scrape_text(std::uint16_t port) {
  auto r = http_get(port, "/metrics", 10s);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  if (!r)
    return {};
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->header("content-type"), prometheus_content_type);
  return r->body;
}

series_map scrape(std::uint16_t port) {
  return parse_samples(scrape_text(port));
}

// Scrapes until `done` holds or `timeout` passes; returns the last scrape.
series_map scrape_until(std::uint16_t port, std::chrono::seconds timeout,
                        const std::function<bool(const series_map&)>& done) {
  const auto deadline = steady::now() + timeout;
  series_map m = scrape(port);
  while (!done(m) && steady::now() < deadline) {
    std::this_thread::sleep_for(200ms);  // polling, bounded by the deadline
    m = scrape(port);
  }
  return m;
}

double value_or(const series_map& m, const std::string& key, double fallback = -1) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

class metrics_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_stack_options o;
    // 3% chaos with 1 s pauses: retries and hedges happen, the task stays short.
    o.sim_args = {"--verify", "--seed",      "41", "--pages",     "30", "--chaos-percent",
                  "3",        "--pause-min", "1",  "--pause-max", "1"};
    stack_ = new service_stack(std::move(o));
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  static service_stack* stack_;
};

service_stack* metrics_test::stack_ = nullptr;

TEST_F(metrics_test, a_finished_task_shows_in_one_scrape_with_the_same_counts) {
  auto& stack = *stack_;
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto& counts = t.at("counts").as_object();
  const auto posted = static_cast<double>(num(counts, "posted"));
  const auto rejected = static_cast<double>(num(counts, "rejected"));
  const auto& batches = t.at("batches").as_object();
  ASSERT_EQ(posted, 300);

  // Workers publish about every second: wait for the last deltas and the final ack.
  const auto m = scrape_until(stack.port(), 15s, [&](const series_map& s) {
    return value_or(s, "etl_worker_animals_posted_total") == posted &&
           value_or(s, "etl_queue_length") == 0;
  });
  EXPECT_EQ(value_or(m, "etl_worker_animals_posted_total"), posted);
  EXPECT_EQ(value_or(m, "etl_worker_animals_rejected_total"), rejected);
  EXPECT_GE(value_or(m, "etl_worker_animals_fetched_total"), posted);
  EXPECT_EQ(value_or(m, "etl_worker_batches_total{outcome=\"posted\"}") +
                value_or(m, "etl_worker_batches_total{outcome=\"in_doubt\"}"),
            static_cast<double>(num(batches, "done")));
  EXPECT_EQ(value_or(m, "etl_worker_batches_total{outcome=\"failed\"}"), 0);
  EXPECT_EQ(value_or(m, "etl_worker_jobs_total{type=\"plan\",outcome=\"done\"}"), 1);
  EXPECT_GE(value_or(m, "etl_worker_jobs_total{type=\"batch\",outcome=\"done\"}"),
            static_cast<double>(num(batches, "done")));
  // Every listing page and detail was answered at least once, and each batch POSTed.
  EXPECT_GE(value_or(m, "etl_worker_http_requests_total{outcome=\"answered\"}"), 30 + 300 + 3);
  EXPECT_GE(value_or(m, "etl_worker_http_attempts_total"),
            value_or(m, "etl_worker_http_requests_total{outcome=\"answered\"}"));
  double retries = 0;
  for (const auto& [k, v] : m) {
    if (k.starts_with("etl_worker_http_retries_total{"))
      retries += v;
  }
  EXPECT_GE(retries, static_cast<double>(num(counts, "retries")));
  EXPECT_GE(value_or(m, "etl_worker_http_hedges_total"),
            static_cast<double>(num(counts, "hedges")));
  EXPECT_EQ(value_or(m, "etl_worker_http_request_duration_seconds_count"),
            value_or(m, "etl_worker_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
  EXPECT_GT(value_or(m, "etl_worker_http_request_duration_seconds_count"), 0);

  // The server's own view: tasks by status from Postgres, the queue from Redis.
  EXPECT_EQ(value_or(m, "etl_tasks{pipeline=\"animals\",status=\"succeeded\"}"), 1);
  EXPECT_EQ(value_or(m, "etl_tasks{pipeline=\"animals\",status=\"running\"}"), 0);
  EXPECT_EQ(value_or(m, "etl_tasks{pipeline=\"animals\",status=\"failed\"}"), 0);
  // Every shipped pipeline has its series from the start, at 0 until it runs (not absent).
  EXPECT_EQ(value_or(m, "etl_tasks{pipeline=\"crunchbase-orgs\",status=\"succeeded\"}"), 0);
  EXPECT_EQ(value_or(m, "etl_tasks{pipeline=\"other\",status=\"succeeded\"}"), -1)
      << "no task of an unknown pipeline: no other series";
  EXPECT_EQ(value_or(m, "etl_metrics_source_up{source=\"postgres\"}"), 1);
  EXPECT_EQ(value_or(m, "etl_metrics_source_up{source=\"redis\"}"), 1);
  EXPECT_EQ(value_or(m, "etl_queue_length"), 0);
  EXPECT_EQ(value_or(m, "etl_queue_pending_jobs"), 0);
  EXPECT_EQ(value_or(m, "etl_queue_oldest_pending_age_seconds"), 0);
  EXPECT_EQ(value_or(m, "etl_queue_oldest_pending_idle_seconds"), 0);
  EXPECT_EQ(value_or(m, "etl_queue_dead_letters"), 0);

  // Requests by route pattern: the trigger, and the status polls under {id}, never the raw id.
  EXPECT_EQ(value_or(m,
                     "etl_http_requests_total{route=\"/extractor/trigger-task\",method=\"POST\","
                     "status=\"202\"}"),
            1);
  EXPECT_GE(value_or(m,
                     "etl_http_requests_total{route=\"/extractor/tasks/{id}\",method=\"GET\","
                     "status=\"200\"}"),
            1);
  EXPECT_GE(value_or(m,
                     "etl_http_request_duration_seconds_count{route=\"/extractor/tasks/{id}\","
                     "method=\"GET\"}"),
            1);
  for (const auto& [k, v] : m)
    EXPECT_EQ(k.find(id), std::string::npos) << k;

  // A worker process killed and restarted by its supervisor takes nothing back: the totals
  // live in Redis, not in the process.
  const auto before = children_of(stack.worker().pid());
  ASSERT_FALSE(before.empty());
  ASSERT_EQ(::kill(before.front(), SIGKILL), 0);
  const auto deadline = steady::now() + 20s;
  std::vector<pid_t> after;
  do {
    std::this_thread::sleep_for(100ms);  // polling for the restart, bounded by the deadline
    after = children_of(stack.worker().pid());
  } while ((after.size() < before.size() || after == before) && steady::now() < deadline);
  ASSERT_NE(after, before) << "the supervisor did not restart the killed worker";
  const auto again = scrape(stack.port());
  EXPECT_EQ(value_or(again, "etl_worker_animals_posted_total"), posted);
  EXPECT_EQ(value_or(again, "etl_worker_jobs_total{type=\"plan\",outcome=\"done\"}"), 1);
}

TEST_F(metrics_test, requests_are_counted_by_route_pattern_method_and_status) {
  auto& stack = *stack_;
  const std::string unknown = "/extractor/tasks/0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e";
  const auto before = scrape(stack.port());
  auto r = http_get(stack.port(), unknown);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = http_get(stack.port(), "/no/such/path/" + std::to_string(::getpid()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = http_request(stack.port(), "DELETE", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  const auto after = scrape(stack.port());
  const std::string not_found =
      "etl_http_requests_total{route=\"/extractor/tasks/{id}\",method=\"GET\",status=\"404\"}";
  EXPECT_EQ(value_or(after, not_found, 0) - value_or(before, not_found, 0), 1);
  const std::string other =
      "etl_http_requests_total{route=\"other\",method=\"GET\",status=\"404\"}";
  EXPECT_EQ(value_or(after, other, 0) - value_or(before, other, 0), 1);
  const std::string refused =
      "etl_http_requests_total{route=\"/metrics\",method=\"DELETE\",status=\"405\"}";
  EXPECT_EQ(value_or(after, refused, 0) - value_or(before, refused, 0), 1);
  // The scrapes themselves are counted too (each after it answered).
  EXPECT_GE(value_or(after,
                     "etl_http_requests_total{route=\"/metrics\",method=\"GET\","
                     "status=\"200\"}"),
            1);
  for (const auto& [k, v] : after) {
    EXPECT_EQ(k.find("0b7c3a52"), std::string::npos) << k;
    EXPECT_EQ(k.find("/no/such"), std::string::npos) << k;
  }
}

TEST_F(metrics_test, requests_refused_before_routing_are_counted_by_status) {
  auto& stack = *stack_;
  const std::string too_wide = "etl_http_refused_requests_total{status=\"431\"}";
  const auto before = scrape(stack.port());
  auto wide = raw_connection::open(stack.port());
  ASSERT_TRUE(wide);
  ASSERT_FALSE(wide->send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Padding: " +
                          std::string(17 * 1024, 'p') + "\r\n\r\n"));
  auto r = wide->read_reply(5s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 431);
  const auto after = scrape(stack.port());
  EXPECT_EQ(value_or(after, too_wide, 0) - value_or(before, too_wide, 0), 1);
}

TEST_F(metrics_test, the_scrape_passes_promtool) {
  const char* promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool))
    GTEST_SKIP()
        << "promtool is not installed (Debian package prometheus, scripts/install-deps.sh)";
  const auto text = scrape_text(stack_->port());
  ASSERT_FALSE(text.empty());
  const auto file = std::filesystem::temp_directory_path() /
                    ("etl-metrics-" + std::to_string(::getpid()) + ".txt");
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  // promtool reads the exposition on stdin; a shell redirect is the simplest way to feed it.
  child_options co;
  co.merge_stderr = true;
  auto p = child_process::start(
      "/bin/sh",
      {"-c", std::string("exec ") + promtool + " check metrics < '" + file.string() + "'"}, co);
  ASSERT_TRUE(p) << p.error().message();
  p->read_until_eof(30s);
  const auto output = p->output();
  const auto code = p->wait(30s);
  std::filesystem::remove(file);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << "promtool check metrics:\n" << output << "\non:\n" << text;
}

// Scrapers carry no token: with ETL_API_TOKEN set, /metrics still answers without one.
TEST(metrics_token, the_scrape_needs_no_token) {
  service_stack_options o;
  o.sim_args = {"--pages", "1"};
  o.start_worker = false;
  o.extra_env = {"ETL_API_TOKEN=metrics-test-secret"};
  service_stack stack(std::move(o));
  auto denied = http_get(stack.port(), "/extractor/tasks/0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401) << "the token must be in force for this test to mean anything";
  const auto m = scrape(stack.port());
  EXPECT_EQ(value_or(m, "etl_metrics_source_up{source=\"postgres\"}"), 1);
  // The refused request is counted like any other.
  EXPECT_EQ(value_or(m,
                     "etl_http_requests_total{route=\"/extractor/tasks/{id}\",method=\"GET\","
                     "status=\"401\"}"),
            1);
}

// A scrape while Redis is down still answers, at once, with what Postgres knows, and says
// which source is missing.
TEST(metrics_outage, a_scrape_during_a_redis_outage_answers_within_its_timeout) {
  service_stack_options o;
  o.sim_args = {"--pages", "1"};
  o.start_worker = false;
  service_stack stack(std::move(o));
  stack.redis().stop();
  const auto start = steady::now();
  const auto m = scrape(stack.port());
  const auto took = steady::now() - start;
  EXPECT_LT(took, 5s);
  EXPECT_EQ(value_or(m, "etl_metrics_source_up{source=\"redis\"}"), 0);
  EXPECT_EQ(value_or(m, "etl_metrics_source_up{source=\"postgres\"}"), 1);
  EXPECT_EQ(value_or(m, "etl_tasks{pipeline=\"animals\",status=\"queued\"}"), 0);
  EXPECT_FALSE(m.contains("etl_queue_length"));
  EXPECT_FALSE(m.contains("etl_worker_animals_posted_total"));
  // Scrapes in a row do not pile up reads: each answers within the timeout.
  for (int i = 0; i < 3; ++i) {
    const auto s = steady::now();
    EXPECT_EQ(value_or(scrape(stack.port()), "etl_metrics_source_up{source=\"redis\"}"), 0);
    EXPECT_LT(steady::now() - s, 5s);
  }
  // Back once Redis is.
  stack.redis().start();
  const auto back = scrape_until(stack.port(), 15s, [](const series_map& s) {
    return value_or(s, "etl_metrics_source_up{source=\"redis\"}") == 1;
  });
  EXPECT_EQ(value_or(back, "etl_metrics_source_up{source=\"redis\"}"), 1);
  EXPECT_EQ(value_or(back, "etl_queue_length"), 0);
}

}  // namespace
}  // namespace etl::test
