// Child processes for integration tests: start a binary, read its stdout line by line, signal
// it, wait for its exit status, and never leave it behind.
//
// The child runs in its own process group with stdin from /dev/null, stdout piped to the test
// (stderr too when asked, or to a file, else inherited so its logs show in the test's output),
// and dies with
// the thread that started it (PR_SET_PDEATHSIG), so even a crashing test leaves no orphans.
// Read what the child writes: a child that fills the pipe (64 KiB) blocks until someone does.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/core/aliases.hpp"

namespace etl::test {

// Runs `command` through the shell to its end and returns its standard output; the test fails
// (and the output so far is returned) when it exits non-zero. For readers the project did not
// write: python3, node with DuckDB, psql.
std::string command_output(const std::string& command);

struct child_options {
  std::vector<std::string> env;  // "NAME=value" entries added to (or replacing) the inherited ones
  std::string working_dir;       // empty: the test's own
  bool merge_stderr = false;     // true: stderr goes into the stdout pipe too
  std::string stderr_file;       // non-empty: stderr is appended to this file (created 0644)
  std::chrono::milliseconds stop_grace{5000};  // the destructor's SIGTERM-to-SIGKILL delay
};

class child_process {
 public:
  // Starts `path` (no PATH lookup) with `args` (without argv[0]). Fails with the system error
  // of pipe, fork or exec: e.g. "No such file or directory" for a missing binary.
  static result<child_process> start(const std::string& path, const std::vector<std::string>& args,
                                     const child_options& options = {});

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  // Stops the child as stop() does (SIGTERM to its group, SIGKILL after the grace period) and
  // reaps it, unless it was already reaped.
  ~child_process();

  pid_t pid() const noexcept { return pid_; }

  // Reads stdout until a line starting with `prefix` arrives and returns it (without the
  // newline); earlier lines are skipped. Empty when `timeout` passes or stdout closes first.
  std::optional<std::string> wait_for_line(std::string_view prefix,
                                           std::chrono::milliseconds timeout);

  // Reads stdout until it closes (the child exited or closed it) or `timeout` passes; returns
  // whether it closed. Everything read is in output().
  bool read_until_eof(std::chrono::milliseconds timeout);

  // Whether stdout reached its end (the child exited or closed it).
  bool stdout_closed() const noexcept { return eof_; }

  // Everything read from stdout so far (including the lines wait_for_line returned or skipped).
  const std::string& output() const noexcept { return output_; }

  // Sends `sig` to the child itself, or to its whole process group. False when the child was
  // already reaped or kill() failed.
  bool signal(int sig);
  bool signal_group(int sig);

  // Waits for the child to exit and reaps it: its exit code, or 128 + the signal number when a
  // signal ended it (as shells report it). Empty when `timeout` passes first (it keeps running).
  // Once reaped, returns the same status at once.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  // SIGTERM to the group, SIGKILL to the group after `grace`, then reaps: the exit status.
  int stop(std::chrono::milliseconds grace);

 private:
  child_process() = default;
  // Reads what is available within `timeout`; false on timeout or end of stdout.
  bool read_some(std::chrono::steady_clock::time_point deadline);
  void release() noexcept;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int pid_fd_ = -1;  // a pidfd to poll for exit; -1 where the kernel has none
  bool eof_ = false;
  std::optional<int> status_;
  std::string output_;
  std::size_t scanned_ = 0;  // output_ up to here was looked at by wait_for_line
  std::chrono::milliseconds stop_grace_{5000};
};

}  // namespace etl::test
