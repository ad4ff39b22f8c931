// The etl-worker supervisor: keeps N worker processes alive and stops them gracefully.
//
// It forks before any thread exists (the children build their own event loops), restarts a
// child that dies, or that fork could not start, with a backoff that grows while it keeps
// failing, forwards SIGTERM and SIGINT so children drain, and kills what is still running after
// the drain deadline. Children get SIGTERM when the supervisor dies, even by SIGKILL, so there
// are no orphans.
#pragma once

#include <chrono>
#include <functional>

namespace etl {

struct supervisor_options {
  int processes = 2;
  std::chrono::milliseconds drain_deadline{30'000};  // after SIGTERM, before SIGKILL
  std::chrono::milliseconds restart_min_delay{200};
  std::chrono::milliseconds restart_max_delay{10'000};
  // A child that ran this long is considered healthy: its slot's backoff starts over.
  std::chrono::milliseconds healthy_after{30'000};
};

// Runs `child_main(slot)` in `processes` child processes (slot 0..N-1; the child exits with its
// return value) until SIGTERM or SIGINT, then drains them. Must be called before the process
// starts any thread. Returns 0 after a clean drain, 1 when children had to be killed. A failed
// fork is logged and tried again later. Throws std::system_error when the signal setup fails.
int run_supervisor(const supervisor_options& opts, const std::function<int(int slot)>& child_main);

}  // namespace etl
