#include "etl/test/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include <linux/close_range.h>

#include <gtest/gtest.h>

extern char** environ;

namespace etl::test {
namespace {

using clock = std::chrono::steady_clock;

error_code last_error() {
  return {errno, boost::system::system_category()};
}

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

// The environment for the child: the inherited one, with `overrides` added or replacing.
std::vector<std::string> child_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
      return std::string_view(o).substr(0, o.find('=')) == name;
    });
    if (!replaced) {
      env.emplace_back(entry);
    }
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Between fork and exec only async-signal-safe calls: report a failure's errno and leave.
[[noreturn]] void child_fail(int error_fd) {
  const int error = errno;
  [[maybe_unused]] const auto written = ::write(error_fd, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

std::string command_output(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  EXPECT_NE(p, nullptr) << command;
  if (p == nullptr)
    return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << command << "\n" << out;
  return out;
}

result<child_process> child_process::start(const std::string& path,
                                           const std::vector<std::string>& args,
                                           const child_options& options) {
  // Everything the child needs is prepared before fork: after it, a multi-threaded parent's
  // child may only make async-signal-safe calls.
  std::vector<std::string> argv_strings{path};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment(options.env);
  const std::vector<char*> argv = pointers(argv_strings);
  const std::vector<char*> envp = pointers(env_strings);
  const char* dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
  const char* err_file = options.stderr_file.empty() ? nullptr : options.stderr_file.c_str();

  int out_pipe[2];
  int error_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return last_error();
  }
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    const auto ec = last_error();
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return ec;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const auto ec = last_error();
    for (int fd : {out_pipe[0], out_pipe[1], error_pipe[0], error_pipe[1]}) {
      ::close(fd);
    }
    return ec;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);  // the parent died before prctl took effect
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 ||
        ::dup2(out_pipe[1], STDOUT_FILENO) < 0 ||
        (options.merge_stderr && ::dup2(out_pipe[1], STDERR_FILENO) < 0)) {
      child_fail(error_pipe[1]);
    }
    if (err_file != nullptr) {
      const int err_fd = ::open(err_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (err_fd < 0 || ::dup2(err_fd, STDERR_FILENO) < 0) {
        child_fail(error_pipe[1]);
      }
    }
    // Descriptors the test opened without O_CLOEXEC (sockets, files) must not leak into the
    // child; older kernels without close_range keep them, which is harmless here.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    if (dir != nullptr && ::chdir(dir) != 0) {
      child_fail(error_pipe[1]);
    }
    ::execve(argv[0], argv.data(), envp.data());
    child_fail(error_pipe[1]);
  }

  ::close(out_pipe[1]);
  ::close(error_pipe[1]);
  // The parent sets the group too, so that it exists before start() returns (no race with a
  // signal_group() right after).
  ::setpgid(pid, pid);
  child_process child;
  child.pid_ = pid;
  child.stdout_fd_ = out_pipe[0];
  child.stop_grace_ = options.stop_grace;
  child.pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));

  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == sizeof child_errno) {
    child.wait(std::chrono::milliseconds(5000));  // reap it: it is exiting with 127
    return error_code(child_errno, boost::system::system_category());
  }
  return child;
}

child_process::child_process(child_process&& other) noexcept {
  *this = std::move(other);
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    pid_fd_ = std::exchange(other.pid_fd_, -1);
    eof_ = other.eof_;
    status_ = std::exchange(other.status_, std::nullopt);
    output_ = std::move(other.output_);
    scanned_ = other.scanned_;
    stop_grace_ = other.stop_grace_;
  }
  return *this;
}

child_process::~child_process() {
  release();
}

void child_process::release() noexcept {
  if (pid_ > 0) {
    if (!status_) {
      stop(stop_grace_);
    } else {
      ::kill(-pid_, SIGKILL);  // whatever the child left in its group
    }
  }
  for (int* fd : {&stdout_fd_, &pid_fd_}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
  pid_ = -1;
  status_.reset();
}

bool child_process::read_some(clock::time_point deadline) {
  if (eof_ || stdout_fd_ < 0) {
    return false;
  }
  pollfd p{stdout_fd_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, remaining_ms(deadline));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return false;
  }
  char buf[4096];
  ssize_t n = 0;
  do {
    n = ::read(stdout_fd_, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  output_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> child_process::wait_for_line(std::string_view prefix,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    std::size_t newline = 0;
    while ((newline = output_.find('\n', scanned_)) != std::string::npos) {
      std::string_view line(output_.data() + scanned_, newline - scanned_);
      scanned_ = newline + 1;
      if (line.starts_with(prefix)) {
        if (line.ends_with('\r')) {
          line.remove_suffix(1);
        }
        return std::string(line);
      }
    }
    if (!read_some(deadline)) {
      if (eof_ || clock::now() >= deadline) {
        return std::nullopt;
      }
    }
  }
}

bool child_process::read_until_eof(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!eof_ && clock::now() < deadline) {
    read_some(deadline);
  }
  return eof_;
}

bool child_process::signal(int sig) {
  return pid_ > 0 && !status_ && ::kill(pid_, sig) == 0;
}

bool child_process::signal_group(int sig) {
  return pid_ > 0 && ::kill(-pid_, sig) == 0;
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  if (status_ || pid_ <= 0) {
    return status_;
  }
  const auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(status);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;  // not our child any more (reaped elsewhere): nothing left to wait for
      return status_;
    }
    if (clock::now() >= deadline) {
      return std::nullopt;
    }
    if (pid_fd_ >= 0) {
      // The pidfd turns readable when the child exits: no polling interval.
      pollfd p{pid_fd_, POLLIN, 0};
      ::poll(&p, 1, remaining_ms(deadline));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return -1;
  }
  if (!status_) {
    ::kill(-pid_, SIGTERM);
    if (!wait(grace)) {
      ::kill(-pid_, SIGKILL);
      wait(std::chrono::hours(1));
    }
  }
  ::kill(-pid_, SIGKILL);  // children it left behind in its group
  return *status_;
}

}  // namespace etl::test
