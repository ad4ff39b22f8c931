#include "etl/test/child_process.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace etl::test {
namespace {

using namespace std::chrono_literals;

result<child_process> shell(const std::string& script, const child_options& options = {}) {
  return child_process::start("/bin/sh", {"-c", script}, options);
}

TEST(child_process, reads_lines_and_reports_the_exit_code) {
  auto child = shell("echo one; echo two; exit 3");
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_EQ(child->wait_for_line("tw", 5s), "two");
  EXPECT_EQ(child->wait(5s), 3);
  EXPECT_EQ(child->wait(0ms), 3) << "a reaped child keeps its status";
  EXPECT_TRUE(child->read_until_eof(5s));
  EXPECT_EQ(child->output(), "one\ntwo\n");
  EXPECT_FALSE(child->wait_for_line("three", 1s)) << "stdout is closed";
}

TEST(child_process, a_signal_ends_it_with_128_plus_the_signal) {
  auto child = shell("echo ready; exec sleep 30");
  ASSERT_TRUE(child);
  ASSERT_TRUE(child->wait_for_line("ready", 5s));
  EXPECT_FALSE(child->wait(50ms)) << "still running";
  EXPECT_TRUE(child->signal(SIGTERM));
  EXPECT_EQ(child->wait(5s), 128 + SIGTERM);
  EXPECT_FALSE(child->signal(SIGTERM)) << "nothing to signal once reaped";
}

TEST(child_process, a_missing_binary_is_an_error_not_a_child) {
  auto child = child_process::start("/nonexistent/animals", {});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error(), boost::system::errc::no_such_file_or_directory);
}

TEST(child_process, passes_environment_and_working_directory) {
  child_options options;
  options.env = {"ETL_CHILD_TEST=42", "HOME=/nowhere"};
  options.working_dir = "/tmp";
  auto child = shell("echo \"$ETL_CHILD_TEST $HOME $(pwd)\"", options);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->wait_for_line("42", 5s), "42 /nowhere /tmp");
  EXPECT_EQ(child->wait(5s), 0);
}

TEST(child_process, merges_stderr_when_asked) {
  child_options options;
  options.merge_stderr = true;
  auto child = shell("echo oops >&2", options);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->wait_for_line("oops", 5s), "oops");
}

TEST(child_process, appends_stderr_to_a_file_when_asked) {
  const std::string path = ::testing::TempDir() + "child_process_stderr.log";
  std::remove(path.c_str());
  child_options options;
  options.stderr_file = path;
  for (const char* word : {"first", "second"}) {
    auto child = shell(std::string("echo ") + word + " >&2; echo out", options);
    ASSERT_TRUE(child);
    EXPECT_EQ(child->wait_for_line("", 5s), "out") << "stdout stays on the pipe";
    EXPECT_EQ(child->wait(5s), 0);
  }
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "first\nsecond\n");
  std::remove(path.c_str());

  options.stderr_file = "/nonexistent/dir/log";
  const auto failed = shell("true", options);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), boost::system::errc::no_such_file_or_directory);
}

TEST(child_process, wait_for_line_gives_up_at_its_timeout) {
  auto child = shell("exec sleep 30");
  ASSERT_TRUE(child);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(child->wait_for_line("never", 200ms));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 5s);
}

TEST(child_process, stop_escalates_to_sigkill_when_sigterm_is_ignored) {
  auto child = shell("trap '' TERM; echo ready; while :; do sleep 1; done");
  ASSERT_TRUE(child);
  ASSERT_TRUE(child->wait_for_line("ready", 5s));
  EXPECT_EQ(child->stop(200ms), 128 + SIGKILL);
}

TEST(child_process, destruction_leaves_no_process_of_its_group_behind) {
  int grandchild_fd = -1;
  {
    auto child = shell("sleep 300 & echo $!; wait");
    ASSERT_TRUE(child);
    const auto line = child->wait_for_line("", 5s);
    ASSERT_TRUE(line);
    const pid_t grandchild = std::stoi(*line);
    grandchild_fd = static_cast<int>(::syscall(SYS_pidfd_open, grandchild, 0));
    ASSERT_GE(grandchild_fd, 0) << "pidfd_open: " << std::strerror(errno);
  }
  // A pidfd turns readable when its process has exited.
  pollfd p{grandchild_fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1) << "the grandchild outlived its child_process";
  ::close(grandchild_fd);
}

TEST(child_process, a_moved_from_child_owns_nothing) {
  auto child = shell("echo hi; exec sleep 30");
  ASSERT_TRUE(child);
  child_process owner = std::move(*child);
  EXPECT_EQ(child->pid(), -1);
  EXPECT_FALSE(child->signal(SIGTERM));
  EXPECT_EQ(owner.wait_for_line("hi", 5s), "hi");
  EXPECT_EQ(owner.stop(5s), 128 + SIGTERM);
}

}  // namespace
}  // namespace etl::test
