#include "etl/test/service_stack.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "etl/test/http.hpp"

namespace etl::test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

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

std::uint16_t free_loopback_port() {
  net::io_context io;
  net::ip::tcp::acceptor a(io, {net::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

service_stack make_service_stack(std::vector<std::string> sim_args,
                                 std::vector<std::string> extra_env, redis_server_options redis) {
  service_stack_options o;
  o.sim_args = std::move(sim_args);
  o.extra_env = std::move(extra_env);
  o.redis = redis;
  return service_stack(std::move(o));
}

std::int64_t num(const json::object& o, std::string_view key) {
  return o.at(key).to_number<std::int64_t>();
}

void expect_fields_intact(const json::object& report) {
  const auto& mismatched = report.at("mismatched").as_object();
  for (auto field : {"name", "friends", "born_at"})
    EXPECT_EQ(num(mismatched, field), 0) << field << ": " << json::serialize(report);
}

void expect_exactly_once(const json::object& report, std::int64_t total) {
  EXPECT_EQ(num(report, "listed"), total) << json::serialize(report);
  EXPECT_EQ(num(report, "received"), total) << json::serialize(report);
  EXPECT_EQ(num(report, "missing"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "unexpected"), 0) << json::serialize(report);
  expect_fields_intact(report);
}

service_stack::service_stack(service_stack_options opts) : redis_(opts.redis) {
  static int n = 0;
  database_url_ = shared_postgres().create_database("stack_" + std::to_string(getpid()) + "_" +
                                                    std::to_string(n++));
  std::string why;
  auto sim = sim_process::start(opts.sim_args, 10s, &why);
  if (!sim)
    throw std::runtime_error("animals-sim: " + why);
  sim_.emplace(std::move(*sim));
  audit_dir_ = fs::temp_directory_path() / ("etl-stack-" + std::to_string(std::random_device{}()));
  fs::create_directories(audit_dir_);
  port_ = free_loopback_port();
  env_ = {"ETL_REDIS_URL=" + redis_.url(),
          "ETL_DATABASE_URL=" + database_url_,
          "ETL_SOURCE_URL=" + sim_->base_url(),
          "ETL_AUDIT_DIR=" + audit_dir_.string(),
          "ETL_LISTEN=127.0.0.1:" + std::to_string(port_),
          "ETL_JOB_LEASE=1s",
          "ETL_LOG_LEVEL=info"};
  for (auto& e : opts.extra_env) {  // a later setting replaces an earlier one of the same name
    const auto name = e.substr(0, e.find('=') + 1);
    std::erase_if(env_, [&](const std::string& x) { return x.starts_with(name); });
    env_.push_back(e);
  }

  if (run_to_end("etl-server", {"--migrate-only"}) != 0)
    throw std::runtime_error("etl-server --migrate-only failed: " + log_tail());
  server_.emplace(start("etl-server", {}));
  const auto deadline = steady::now() + 20s;
  bool up = false;
  while (!(up = http_get(port_, "/healthz", 1s).has_value()) && steady::now() < deadline)
    std::this_thread::sleep_for(50ms);  // polling for readiness, bounded by the deadline
  if (!up)
    throw std::runtime_error("etl-server did not answer /healthz in 20 s: " + log_tail());
  if (opts.start_worker)
    worker_.emplace(start("etl-worker", {}));
}

service_stack::~service_stack() {
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
child_process service_stack::start(const std::string& bin, const std::vector<std::string>& args) {
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

int service_stack::run_to_end(const std::string& bin, const std::vector<std::string>& args) {
  auto p = start(bin, args);
  p.read_until_eof(60s);
  // Its report joins the log, so that a failing test shows what the binary found.
  std::ofstream(audit_dir_ / "service.log", std::ios::app) << bin << " printed:\n" << p.output();
  return p.wait(60s).value_or(-1);
}

std::string service_stack::log_tail() const {
  std::ifstream in(audit_dir_ / "service.log");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 6000 ? all.substr(all.size() - 6000) : all;
}

std::string service_stack::trigger(bool audit) {
  auto r = http_post(
      port_, std::string("/extractor/trigger-task?audit_mode=") + (audit ? "true" : "false"), "");
  EXPECT_TRUE(r) << r.error().message();
  if (!r)
    return {};
  EXPECT_EQ(r->status, 202) << r->body;
  return std::string(json::parse(r->body).at("task_id").as_string());
}

std::string service_stack::trigger_json(const std::string& body) {
  auto r = http_post(port_, "/extractor/trigger-task", body);
  EXPECT_TRUE(r && r->status == 202) << (r ? r->body : r.error().message());
  if (!r || r->status != 202)
    return {};
  return std::string(json::parse(r->body).at("task_id").as_string());
}

json::object service_stack::task(const std::string& id) {
  auto r = http_get(port_, "/extractor/tasks/" + id);
  if (!r || r->status != 200)
    return {};
  return json::parse(r->body).as_object();
}

json::object service_stack::get_json(const std::string& target, int want_status) {
  auto r = http_get(port_, target);
  EXPECT_TRUE(r) << target << ": " << r.error().message();
  if (!r)
    return {};
  EXPECT_EQ(r->status, want_status) << target << ": " << r->body;
  EXPECT_EQ(r->header("content-type"), "application/json") << target;
  error_code ec;
  auto v = json::parse(r->body, ec);
  EXPECT_TRUE(!ec && v.is_object()) << target << ": " << r->body;
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

json::object service_stack::wait_task(const std::string& id, std::chrono::seconds timeout,
                                      const std::function<bool(const json::object&)>& done) {
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

json::object service_stack::wait_finished(const std::string& id, std::chrono::seconds timeout) {
  return wait_task(id, timeout, [](const json::object& t) {
    const auto s = t.at("status").as_string();
    return s == "succeeded" || s == "failed" || s == "cancelled";
  });
}

}  // namespace etl::test
