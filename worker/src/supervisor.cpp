#include "etl/worker/supervisor.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

namespace etl {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct slot_state {
  pid_t pid = 0;
  steady::time_point started{};
  steady::time_point restart_at{};  // when pid == 0: not before this
  milliseconds backoff{0};
};

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "stopped";
}

// The child's pid, or -1 with errno set when fork failed (EAGAIN: a process limit; ENOMEM).
pid_t spawn(int slot, const sigset_t& original_mask, const std::function<int(int)>& child_main) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0)
    return pid;
  // Child: die with the supervisor (SIGTERM lets it drain), then the signals it blocked.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent)
    _exit(0);  // the supervisor died before prctl took effect
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  int code = 1;
  try {
    code = child_main(slot);
  } catch (const std::exception& e) {
    spdlog::critical("worker process {} failed: {}", slot, e.what());
  }
  spdlog::shutdown();
  _exit(code);
}

}  // namespace

int run_supervisor(const supervisor_options& opts, const std::function<int(int slot)>& child_main) {
  // Signals are taken synchronously with sigtimedwait: no handler runs at an odd moment.
  sigset_t handled, original;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &handled, &original) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigprocmask");
  }

  std::vector<slot_state> slots(static_cast<std::size_t>(std::max(opts.processes, 1)));
  const auto now0 = steady::now();
  for (std::size_t i = 0; i < slots.size(); ++i)
    slots[i].restart_at = now0;

  bool draining = false;
  steady::time_point drain_until{};
  bool killed = false;
  spdlog::info("supervisor: keeping {} worker processes", slots.size());

  for (;;) {
    const auto now = steady::now();
    if (!draining) {
      for (std::size_t i = 0; i < slots.size(); ++i) {
        auto& s = slots[i];
        if (s.pid == 0 && now >= s.restart_at) {
          const pid_t pid = spawn(static_cast<int>(i), original, child_main);
          if (pid < 0) {
            // A process limit or a memory shortage: passing, usually. The workers already
            // running go on; this slot is tried again with the backoff of a crashing child.
            const int err = errno;
            s.backoff = std::clamp(s.backoff * 2, opts.restart_min_delay, opts.restart_max_delay);
            s.restart_at = now + s.backoff;
            spdlog::error(
                "supervisor: cannot start worker process {}: fork: {}; trying again in {} ms", i,
                std::generic_category().message(err), s.backoff.count());
            continue;
          }
          s.pid = pid;
          s.started = now;
          spdlog::info("supervisor: started worker process {} (pid {})", i, s.pid);
        }
      }
    } else if (!killed && now >= drain_until) {
      for (auto& s : slots) {
        if (s.pid > 0) {
          spdlog::warn("supervisor: worker pid {} still running after the drain deadline: killing",
                       s.pid);
          kill(s.pid, SIGKILL);
        }
      }
      killed = true;
    }

    // Reap every child that ended.
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0)
        break;
      auto it = std::find_if(slots.begin(), slots.end(), [&](auto& s) { return s.pid == pid; });
      if (it == slots.end())
        continue;
      auto& s = *it;
      const auto slot = it - slots.begin();
      s.pid = 0;
      if (draining) {
        spdlog::info("supervisor: worker process {} {}", slot, describe_status(status));
        continue;
      }
      const auto ran = steady::now() - s.started;
      s.backoff = ran >= opts.healthy_after
                      ? opts.restart_min_delay
                      : std::clamp(s.backoff * 2, opts.restart_min_delay, opts.restart_max_delay);
      s.restart_at = steady::now() + s.backoff;
      spdlog::warn("supervisor: worker process {} (pid {}) {}; restarting in {} ms", slot, pid,
                   describe_status(status), s.backoff.count());
    }

    const bool any_alive =
        std::any_of(slots.begin(), slots.end(), [](auto& s) { return s.pid > 0; });
    if (draining && !any_alive)
      break;

    // Sleep until a signal, the next restart or the drain deadline.
    auto wake = steady::now() + milliseconds{1'000};
    if (draining && !killed)
      wake = std::min(wake, drain_until);
    for (auto& s : slots) {
      if (!draining && s.pid == 0)
        wake = std::min(wake, s.restart_at);
    }
    const auto wait =
        std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(wake - steady::now()),
                 std::chrono::nanoseconds{0});
    timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000),
                static_cast<long>(wait.count() % 1'000'000'000)};
    siginfo_t info;
    const int sig = sigtimedwait(&handled, &info, &ts);
    if ((sig == SIGTERM || sig == SIGINT) && !draining) {
      spdlog::info("supervisor: {} received; draining workers (deadline {} ms)", strsignal(sig),
                   opts.drain_deadline.count());
      draining = true;
      drain_until = steady::now() + opts.drain_deadline;
      for (auto& s : slots) {
        if (s.pid > 0)
          kill(s.pid, SIGTERM);
      }
    } else if ((sig == SIGTERM || sig == SIGINT) && draining) {
      spdlog::warn("supervisor: second {}: killing workers now", strsignal(sig));
      drain_until = steady::now();
    }
  }
  sigprocmask(SIG_SETMASK, &original, nullptr);
  spdlog::info("supervisor: all worker processes stopped");
  return killed ? 1 : 0;
}

}  // namespace etl
