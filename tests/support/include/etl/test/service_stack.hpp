// The whole service as a test fixture: a real Redis, a fresh database in a shared Postgres,
// animals-sim, etl-server and (optionally) etl-worker, as processes on free loopback ports.
// Integration tests of the pipeline, the HTTP API, the metrics and the dashboard drive it over
// HTTP, the way people and other services do. Everything stops when the stack goes out of
// scope; the services' logs are printed when the test failed.
//
//   etl::test::service_stack stack({.sim_args = {"--verify", "--pages", "20"}});
//   auto id = stack.trigger(true);
//   auto t = stack.wait_finished(id, 60s);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "etl/test/child_process.hpp"
#include "etl/test/postgres_server.hpp"
#include "etl/test/redis_server.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {

struct service_stack_options {
  std::vector<std::string> sim_args;   // animals-sim's flags (its port is chosen for it)
  std::vector<std::string> extra_env;  // "NAME=value"; replaces a default of the same name
  redis_server_options redis;
  bool start_worker = true;  // false: only the server (API tests need no workers)
};

// One Postgres for the whole test executable (initdb takes seconds); each stack gets a fresh
// database in it.
postgres_server& shared_postgres();

// The pids of a process's children (from /proc), e.g. the worker processes of etl-worker.
std::vector<pid_t> children_of(pid_t pid);

// A free TCP port on 127.0.0.1 (free when asked; a test binds it soon after).
std::uint16_t free_loopback_port();

class service_stack;

// A stack with these simulator flags, extra "NAME=value" settings and Redis options; see
// service_stack's constructor.
service_stack make_service_stack(std::vector<std::string> sim_args,
                                 std::vector<std::string> extra_env = {},
                                 redis_server_options redis = {});

// The integer at `key` of a JSON object (a simulator report's or a task's field).
std::int64_t num(const boost::json::object& o, std::string_view key);

// The simulator's report shows no field of a received animal changed (name, friends, born_at).
void expect_fields_intact(const boost::json::object& report);

// The simulator's report shows every one of `total` listed ids received once: none missing,
// duplicated or unexpected, no field changed.
void expect_exactly_once(const boost::json::object& report, std::int64_t total);

class service_stack {
 public:
  // Starts everything and waits (bounded) until etl-server answers /healthz. Throws
  // std::runtime_error saying what failed to start, with the services' log.
  explicit service_stack(service_stack_options opts);
  ~service_stack();
  service_stack(const service_stack&) = delete;
  service_stack& operator=(const service_stack&) = delete;

  // Starts a project binary with the stack's environment, its stderr appended to the log.
  // Throws std::runtime_error when it cannot be started.
  child_process start(const std::string& bin, const std::vector<std::string>& args);
  // Runs a project binary to its end (at most 60 s) and returns its exit code, -1 on timeout.
  // What it printed is added to the log (log_tail).
  int run_to_end(const std::string& bin, const std::vector<std::string>& args);
  // The last few kilobytes of the services' log.
  std::string log_tail() const;

  // POST /extractor/trigger-task?audit_mode=...; expects 202 and returns the task id.
  std::string trigger(bool audit);
  // POST /extractor/trigger-task with the JSON `body` ({"pipeline": ..., "params": {...}});
  // expects 202 and returns the task id ("" after a failed expectation).
  std::string trigger_json(const std::string& body);
  // GET /extractor/tasks/{id}; empty when it did not answer 200.
  boost::json::object task(const std::string& id);
  // GET `target` from etl-server, expecting `want_status` and a JSON object (the test fails
  // otherwise, and gets an empty object).
  boost::json::object get_json(const std::string& target, int want_status = 200);
  // Polls the task until `done` says so or `timeout` passes (then the test fails); returns the
  // last state seen.
  boost::json::object wait_task(const std::string& id, std::chrono::seconds timeout,
                                const std::function<bool(const boost::json::object&)>& done);
  // wait_task until succeeded, failed or cancelled.
  boost::json::object wait_finished(const std::string& id, std::chrono::seconds timeout);

  boost::json::object report() { return sim_->report().value().as_object(); }
  // Runs etl-verify --task id and returns its exit code.
  int verify(const std::string& task_id) { return run_to_end("etl-verify", {"--task", task_id}); }

  redis_server& redis() { return redis_; }
  sim_process& sim() { return *sim_; }
  std::uint16_t port() const { return port_; }
  const std::string& database_url() const { return database_url_; }
  const std::filesystem::path& audit_dir() const { return audit_dir_; }
  const std::vector<std::string>& env() const { return env_; }
  child_process& server() { return *server_; }
  child_process& worker() { return *worker_; }

 private:
  redis_server redis_;
  std::string database_url_;
  std::optional<sim_process> sim_;
  std::filesystem::path audit_dir_;
  std::vector<std::string> env_;
  std::optional<child_process> server_;
  std::optional<child_process> worker_;
  std::uint16_t port_ = 0;
};

}  // namespace etl::test
