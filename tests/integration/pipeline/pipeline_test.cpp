// The whole pipeline as people run it: real Redis and Postgres, animals-sim in verify mode,
// etl-server and etl-worker as processes. Each test triggers a task over HTTP and checks the
// outcome through the simulator's own report and etl-verify, never through the service's word
// alone.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "etl/test/child_process.hpp"
#include "etl/test/http.hpp"
#include "etl/test/postgres_server.hpp"
#include "etl/test/redis_server.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

// One Postgres for the whole executable (initdb takes seconds); a fresh database per test.
postgres_server& shared_postgres() {
  static postgres_server pg;
  return pg;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t p; in >> p;)
    out.push_back(p);
  return out;
}

// Redis, a database, the simulator, etl-server and etl-worker, on free loopback ports.
class pipeline_stack {
 public:
  pipeline_stack(std::vector<std::string> sim_args, std::vector<std::string> extra_env = {},
                 redis_server_options redis_opts = {})
      : redis_(redis_opts) {
    static int n = 0;
    const auto db_url = shared_postgres().create_database("pipeline_" + std::to_string(getpid()) +
                                                          "_" + std::to_string(n++));
    std::string why;
    auto sim = sim_process::start(sim_args, 10s, &why);
    if (!sim)
      throw std::runtime_error("animals-sim: " + why);
    sim_.emplace(std::move(*sim));
    audit_dir_ = fs::temp_directory_path() /
                 ("etl-pipeline-audit-" + std::to_string(std::random_device{}()));
    fs::create_directories(audit_dir_);
    port_ = free_port();
    env_ = {"ETL_REDIS_URL=" + redis_.url(),
            "ETL_DATABASE_URL=" + db_url,
            "ETL_SOURCE_URL=" + sim_->base_url(),
            "ETL_AUDIT_DIR=" + audit_dir_.string(),
            "ETL_LISTEN=127.0.0.1:" + std::to_string(port_),
            "ETL_JOB_LEASE=1s",
            "ETL_LOG_LEVEL=info"};
    for (auto& e : extra_env) {  // a later setting replaces an earlier one of the same name
      const auto name = e.substr(0, e.find('=') + 1);
      std::erase_if(env_, [&](const std::string& x) { return x.starts_with(name); });
      env_.push_back(e);
    }

    if (run_to_end("etl-server", {"--migrate-only"}) != 0) {
      throw std::runtime_error("etl-server --migrate-only failed: " + log_tail());
    }
    server_.emplace(start("etl-server", {}));
    const auto deadline = steady::now() + 20s;
    while (!http_get(port_, "/healthz", 1s) && steady::now() < deadline) {
      std::this_thread::sleep_for(50ms);  // polling for readiness, bounded by the deadline
    }
    worker_.emplace(start("etl-worker", {}));
  }

  ~pipeline_stack() {
    if (worker_)
      worker_->stop(10s);
    if (server_)
      server_->stop(5s);
    if (::testing::Test::HasFailure())
      std::fprintf(stderr, "service logs:\n%s\n", log_tail().c_str());
    std::error_code ec;
    fs::remove_all(audit_dir_, ec);
  }

  // The binaries log to a file, not a pipe nobody reads (a full pipe would block them).
  child_process start(const std::string& bin, const std::vector<std::string>& args) {
    child_options o;
    o.env = env_;
    std::string cmd = "exec '" + bin_path(bin) + "'";
    for (const auto& a : args)
      cmd += " '" + a + "'";
    cmd += " 2>>'" + (audit_dir_ / "service.log").string() + "'";
    auto p = child_process::start("/bin/sh", {"-c", cmd}, o);
    if (!p)
      throw std::runtime_error(bin + ": " + p.error().message());
    return std::move(*p);
  }

  int run_to_end(const std::string& bin, const std::vector<std::string>& args) {
    auto p = start(bin, args);
    p.read_until_eof(60s);
    return p.wait(60s).value_or(-1);
  }

  std::string log_tail() const {
    std::ifstream in(audit_dir_ / "service.log");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 6000 ? all.substr(all.size() - 6000) : all;
  }

  static std::uint16_t free_port() {
    net::io_context io;
    net::ip::tcp::acceptor a(io, {net::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }

  std::string trigger(bool audit) {
    auto r = http_post(
        port_, std::string("/extractor/trigger-task?audit_mode=") + (audit ? "true" : "false"), "");
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 202) << r->body;
    return std::string(json::parse(r->body).at("task_id").as_string());
  }

  json::object task(const std::string& id) {
    auto r = http_get(port_, "/extractor/tasks/" + id);
    if (!r || r->status != 200)
      return {};
    return json::parse(r->body).as_object();
  }

  // Polls the task until `done` says so or `timeout` passes; returns the last state seen.
  template <class Pred>
  json::object wait_task(const std::string& id, std::chrono::seconds timeout, Pred done) {
    const auto deadline = steady::now() + timeout;
    json::object t;
    while (steady::now() < deadline) {
      t = task(id);
      if (!t.empty() && done(t))
        return t;
      std::this_thread::sleep_for(200ms);  // polling interval of a status read, not a sync
    }
    ADD_FAILURE() << "task " << id << " did not get there in " << timeout.count()
                  << " s; last: " << json::serialize(t);
    return t;
  }

  json::object wait_finished(const std::string& id, std::chrono::seconds timeout) {
    return wait_task(id, timeout, [](const json::object& t) {
      const auto s = t.at("status").as_string();
      return s == "succeeded" || s == "failed" || s == "cancelled";
    });
  }

  json::object report() { return sim_->report().value().as_object(); }
  int verify(const std::string& task_id) { return run_to_end("etl-verify", {"--task", task_id}); }
  redis_server& redis() { return redis_; }
  std::uint16_t port() const { return port_; }
  child_process& worker() { return *worker_; }

 private:
  redis_server redis_;
  std::optional<sim_process> sim_;
  fs::path audit_dir_;
  std::vector<std::string> env_;
  std::optional<child_process> server_;
  std::optional<child_process> worker_;
  std::uint16_t port_ = 0;
};

std::int64_t num(const json::object& o, std::string_view k) {
  return o.at(k).to_number<std::int64_t>();
}

void expect_exactly_once(const json::object& report, std::int64_t total) {
  EXPECT_EQ(num(report, "total"), total);
  EXPECT_EQ(num(report, "received"), total) << json::serialize(report);
  EXPECT_EQ(num(report, "missing"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "unexpected"), 0) << json::serialize(report);
  const auto& mismatched = report.at("mismatched").as_object();
  for (auto field : {"name", "friends", "born_at"})
    EXPECT_EQ(num(mismatched, field), 0) << field;
}

TEST(pipeline, a_full_task_posts_every_animal_exactly_once) {
  // 2% chaos with pauses shortened to 1-3 s for test time.
  pipeline_stack stack({"--verify", "--seed", "21", "--pages", "80", "--chaos-percent", "2",
                        "--pause-min", "1", "--pause-max", "3"});
  const auto id = stack.trigger(true);
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 800);
  EXPECT_EQ(num(t.at("batches").as_object(), "done"), 8);
  const auto report = stack.report();
  expect_exactly_once(report, 800);
  std::printf("simulator report: %s\n", json::serialize(report).c_str());
  EXPECT_EQ(stack.verify(id), 0);
}

TEST(pipeline, a_worker_killed_mid_task_loses_nothing) {
  pipeline_stack stack({"--verify", "--seed", "22", "--pages", "150", "--chaos-percent", "2",
                        "--pause-min", "1", "--pause-max", "2"});
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s, [](const json::object& t) {
    return num(t.at("batches").as_object(), "done") >= 2;
  });
  auto children = children_of(stack.worker().pid());
  ASSERT_FALSE(children.empty());
  ASSERT_EQ(::kill(children.front(), SIGKILL), 0);
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto report = stack.report();
  expect_exactly_once(report, 1500);
  std::printf("simulator report after SIGKILL of worker %d: %s\n", children.front(),
              json::serialize(report).c_str());
  // A batch whose POST was on the wire when the worker died is counted, never hidden.
  std::printf("in doubt: %lld\n",
              static_cast<long long>(num(t.at("counts").as_object(), "in_doubt")));
  EXPECT_EQ(stack.verify(id), 0);
}

TEST(pipeline, a_job_that_keeps_failing_is_dead_lettered_with_its_reason) {
  // A source nobody listens on: the plan job fails on every delivery.
  pipeline_stack stack({"--pages", "5"}, {"ETL_SOURCE_URL=http://127.0.0.1:9",
                                          "ETL_RETRY_ATTEMPTS=2", "ETL_MAX_DELIVERIES=3"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "failed");
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("dead-lettered"), std::string::npos) << errors;
}

TEST(pipeline, a_redis_restart_mid_task_does_not_stop_it) {
  redis_server_options aof;
  aof.appendonly = true;
  // Long enough (2,000 animals, pauses of 2-3 s) that the task is still running when Redis goes.
  pipeline_stack stack({"--verify", "--seed", "23", "--pages", "200", "--chaos-percent", "4",
                        "--pause-min", "2", "--pause-max", "3"},
                       {}, aof);
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s,
                  [](const json::object& t) { return t.at("status").as_string() == "running"; });
  ASSERT_EQ(stack.task(id).at("status").as_string(), "running");
  stack.redis().restart();
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  expect_exactly_once(stack.report(), 2000);
  EXPECT_EQ(stack.verify(id), 0);
}

TEST(pipeline, invalid_records_are_rejected_with_reasons_and_the_rest_posted) {
  pipeline_stack stack({"--verify", "--seed", "24", "--pages", "30", "--chaos-percent", "0",
                        "--fault-wrong-types", "3", "--fault-missing-fields", "3"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto& counts = t.at("counts").as_object();
  EXPECT_GT(num(counts, "rejected"), 0);
  const auto report = stack.report();
  // Every animal is either posted once or rejected with a reason; nothing is posted twice.
  EXPECT_EQ(num(counts, "posted") + num(counts, "rejected"), 300) << json::serialize(t);
  EXPECT_EQ(num(report, "received"), num(counts, "posted"));
  EXPECT_EQ(num(report, "duplicates"), 0);
  const auto& mismatched = report.at("mismatched").as_object();
  for (auto field : {"name", "friends", "born_at"})
    EXPECT_EQ(num(mismatched, field), 0) << field;
}

TEST(pipeline, cancel_stops_a_task_and_keeps_what_was_posted) {
  // 3,000 animals with long pauses: far from done when the cancel arrives.
  pipeline_stack stack({"--verify", "--seed", "25", "--pages", "300", "--chaos-percent", "10",
                        "--pause-min", "4", "--pause-max", "6"});
  const auto id = stack.trigger(false);
  stack.wait_task(id, 120s, [](const json::object& t) {
    return num(t.at("batches").as_object(), "done") >= 1;
  });
  auto r = http_post(stack.port(), "/extractor/tasks/" + id + "/cancel", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body).at("status").as_string(), "cancelled") << r->body;
  // Batches in flight still record what they posted; nothing else is posted.
  const auto t = stack.wait_task(id, 60s, [&](const json::object& now) {
    return num(now.at("counts").as_object(), "posted") == num(stack.report(), "received");
  });
  EXPECT_EQ(t.at("status").as_string(), "cancelled");
  const auto report = stack.report();
  EXPECT_LT(num(report, "received"), 3000) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 0);
  auto unknown =
      http_post(stack.port(), "/extractor/tasks/00000000-0000-4000-8000-000000000000/cancel", "");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

}  // namespace
}  // namespace etl::test
