// The supervisor when fork fails: it must log the failure and try again with a backoff while
// the worker processes it has keep running, not end (and take every worker with it).
//
// fork is made to fail for real with RLIMIT_NPROC. The kernel does not enforce that limit on
// root, so the supervisor runs in a child process of the test switched to a uid of its own (no
// other process has it, so the limit counts exactly the supervisor and its workers). Raising
// another uid's limit with prlimit takes CAP_SYS_RESOURCE, which containers often drop, so the
// supervisor's process raises its own soft limit on SIGUSR1. Run as another user (no setuid),
// the test is skipped.
#include "etl/worker/supervisor.hpp"

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

namespace etl {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr uid_t lonely_uid = 3'999'917;  // no account, no process: the limit counts ours alone

// Reads lines from `fd` until one contains `text` or `timeout` passes; everything read is kept
// in `seen`. False on timeout or end of file.
bool wait_for_text(int fd, const std::string& text, std::chrono::milliseconds timeout,
                   std::string& seen) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (seen.find(text) != std::string::npos)
      return true;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left <= 0ms)
      return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[4096];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
      return seen.find(text) != std::string::npos;
    seen.append(buf, static_cast<std::size_t>(n));
  }
}

// SIGUSR1 in the supervisor's process: lifts its soft process limit (setrlimit is a plain
// system call, safe here).
void lift_process_limit(int) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NPROC, &rl);
  rl.rlim_cur = std::min<rlim_t>(64, rl.rlim_max);
  ::setrlimit(RLIMIT_NPROC, &rl);
}

// In the supervisor's process: worker processes that say they are up and wait for SIGTERM.
[[noreturn]] void supervise_under_a_process_limit(int out_fd, rlim_t nproc) {
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(out_fd, STDERR_FILENO);
  if (::setgroups(0, nullptr) != 0 || ::setgid(lonely_uid) != 0 || ::setuid(lonely_uid) != 0) {
    std::perror("setuid");
    ::_exit(10);
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after setuid, which clears it
  rlimit rl{};
  ::getrlimit(RLIMIT_NPROC, &rl);
  rl.rlim_cur = nproc;
  if (::setrlimit(RLIMIT_NPROC, &rl) != 0) {
    std::perror("setrlimit");
    ::_exit(11);
  }
  struct sigaction lift {};
  lift.sa_handler = lift_process_limit;
  ::sigaction(SIGUSR1, &lift, nullptr);
  supervisor_options o;
  o.processes = 2;
  o.restart_min_delay = 20ms;
  o.restart_max_delay = 100ms;
  o.drain_deadline = 5s;
  try {
    const int rc = run_supervisor(o, [](int slot) {
      std::printf("worker %d up\n", slot);
      std::fflush(stdout);
      sigset_t term;
      sigemptyset(&term);
      sigaddset(&term, SIGTERM);
      sigprocmask(SIG_BLOCK, &term, nullptr);
      int sig = 0;
      sigwait(&term, &sig);
      return 0;
    });
    spdlog::default_logger()->flush();
    ::_exit(rc);
  } catch (const std::exception& e) {
    std::printf("the supervisor threw: %s\n", e.what());
    std::fflush(stdout);
    ::_exit(3);
  }
}

TEST(supervisor, a_failed_fork_is_retried_while_the_running_workers_go_on) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root: RLIMIT_NPROC is enforced only under a uid of the test's own";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // Room for the supervisor and one worker: the second worker's fork fails with EAGAIN.
  const pid_t sup = ::fork();
  ASSERT_GE(sup, 0);
  if (sup == 0) {
    ::close(fds[0]);
    supervise_under_a_process_limit(fds[1], 2);
  }
  ::close(fds[1]);
  std::string seen;
  const bool first_up = wait_for_text(fds[0], "worker 0 up", 10s, seen);
  const bool failed = wait_for_text(fds[0], "cannot start worker process 1", 10s, seen);
  std::printf("supervisor output while fork fails:\n%s\n", seen.c_str());
  EXPECT_TRUE(first_up);
  ASSERT_TRUE(failed) << "no failed fork was logged";
  // Still failing, and still there: a later try was logged too, and the supervisor runs.
  ASSERT_TRUE(wait_for_text(fds[0], "trying again in 40 ms", 10s, seen)) << seen;
  int status = 0;
  ASSERT_EQ(::waitpid(sup, &status, WNOHANG), 0) << "the supervisor ended: " << seen;
  // The limit lifted, the missing worker starts; SIGTERM then drains both cleanly.
  ASSERT_EQ(::kill(sup, SIGUSR1), 0);
  EXPECT_TRUE(wait_for_text(fds[0], "worker 1 up", 10s, seen)) << seen;
  ASSERT_EQ(::kill(sup, SIGTERM), 0);
  ASSERT_EQ(::waitpid(sup, &status, 0), sup);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << ": " << seen;
  // Worker 0 ran through it all: started once, never restarted.
  EXPECT_EQ(seen.find("worker 0 up"), seen.rfind("worker 0 up")) << seen;
  EXPECT_EQ(seen.find("worker process 0 (pid"), seen.rfind("worker process 0 (pid")) << seen;
  ::close(fds[0]);
}

}  // namespace
}  // namespace etl
