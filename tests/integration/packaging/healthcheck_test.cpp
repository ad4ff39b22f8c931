// The Docker image's health check (scripts/docker-healthcheck.sh, etl-healthcheck in the image)
// against the real etl-server and etl-worker of a service stack, run with the stack's
// environment as a container runs it with the container's. tests/packaging covers the
// animals-sim role and the failure cases of the other roles with stand-ins.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "etl/test/service_stack.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;

struct check_result {
  int exit_code = -1;
  std::string output;
};

// The check's arguments, built apart: GCC 12 warns (array-bounds) about a concatenated string
// inside the braced list.
std::vector<std::string> healthcheck_args(pid_t pid) {
  std::string script = source_dir;
  script += "/scripts/docker-healthcheck.sh";
  return {script, std::to_string(pid)};
}

// Runs the health check for `pid`; a check that does not end within 10 s counts as -1.
check_result run_healthcheck(pid_t pid, const std::vector<std::string>& env) {
  auto child =
      child_process::start("/bin/bash", healthcheck_args(pid), {.env = env, .merge_stderr = true});
  if (!child)
    return {-1, child.error().message()};
  child->read_until_eof(10s);
  return {child->wait(10s).value_or(-1), child->output()};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(healthcheck, etl_server_is_healthy_while_it_answers_and_unhealthy_when_hung) {
  service_stack_options o;
  o.sim_args = {"--pages", "1"};
  o.start_worker = false;
  service_stack stack(std::move(o));
  const std::string url = "http://127.0.0.1:" + std::to_string(stack.port()) + "/healthz";

  auto ok = run_healthcheck(stack.server().pid(), stack.env());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_TRUE(contains(ok.output, "healthy: etl-server: GET " + url + ": HTTP/1.1 200"))
      << ok.output;

  // Stopped, the server still accepts connections (the kernel does) but never answers.
  ASSERT_TRUE(stack.server().signal(SIGSTOP));
  auto hung = run_healthcheck(stack.server().pid(), stack.env());
  stack.server().signal(SIGCONT);
  EXPECT_EQ(hung.exit_code, 1) << hung.output;
  EXPECT_TRUE(contains(hung.output, "unhealthy: etl-server: GET " + url + ": no answer within 3 s"))
      << hung.output;
}

TEST(healthcheck, etl_worker_is_healthy_with_its_worker_processes_and_not_once_stopped) {
  service_stack stack(service_stack_options{.sim_args = {"--pages", "1"}});
  const pid_t supervisor = stack.worker().pid();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (children_of(supervisor).size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(children_of(supervisor).size(), 2u) << stack.log_tail();

  auto ok = run_healthcheck(supervisor, stack.env());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_TRUE(contains(ok.output, "healthy: etl-worker: 2 worker processes")) << ok.output;

  // SIGTERM drains and ends the worker processes and the supervisor; once reaped, it is gone.
  EXPECT_EQ(stack.worker().stop(30s), 0) << stack.log_tail();
  auto gone = run_healthcheck(supervisor, stack.env());
  EXPECT_EQ(gone.exit_code, 1) << gone.output;
  EXPECT_TRUE(contains(gone.output, "unhealthy: no process " + std::to_string(supervisor)))
      << gone.output;
}

}  // namespace
}  // namespace etl::test
