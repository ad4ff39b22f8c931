// An adaptive limit on requests in flight, in the manner of TCP Vegas: it rises while answers
// come back about as fast as with no load, and falls when they slow down because the upstream
// queues them. It starts with a slow start, as TCP does: the limit doubles each round until the
// first round that shows a queue, then moves by one. Pure arithmetic on round-trip samples: the
// caller measures, this decides.
#pragma once

#include <chrono>
#include <cstddef>

namespace etl {

struct adaptive_limit_options {
  std::size_t floor = 4;     // the limit never falls below this
  std::size_t ceiling = 64;  // nor rises above this (max_in_flight)
  std::size_t initial = 0;   // the start, 0 for the ceiling
  // The estimated queue, limit x (1 - no-load RTT / RTT), below alpha: one more; above beta: one
  // fewer; between: unchanged (the band keeps the limit from oscillating by one each round).
  double alpha = 3.0;
  double beta = 6.0;
  // An RTT within this of the no-load RTT counts as no queue: a fast upstream's RTT is a few
  // hundred microseconds, and the client's own CPU (its event loop busy with other answers)
  // inflates it by more than that without any queue at the upstream.
  std::chrono::microseconds tolerance{2'000};
  // The no-load RTT is the least RTT seen over the last one to two windows: it follows an
  // upstream that became slower for good instead of measuring the queue against its old speed.
  std::chrono::milliseconds window{10'000};
  // Doubles the limit each round while the estimated queue stays below alpha, until the first
  // round at or above it; from then on the rule above, for good. If that first queue is above
  // beta (the doubling overshot) the limit first drops to limit - queue + alpha: what the
  // upstream serves at once, and alpha waiting. A round takes an RTT, so growing by one from 4
  // to 64 takes 60 RTTs: 6 s against an upstream 100 ms away, longer than a task.
  bool slow_start = true;
};

class adaptive_limit {
 public:
  using clock = std::chrono::steady_clock;

  // Starts at opts.initial (the ceiling when 0), clamped to [floor, ceiling]; floor >= 1.
  explicit adaptive_limit(adaptive_limit_options opts, clock::time_point now = {});

  // One answered attempt's round trip, seen at `now` (non-decreasing). The limit moves at most
  // once per round (as many samples as the limit), judged on the round's least RTT: one slow
  // answer (a paused request) is an outlier, not a queue. Returns the limit.
  std::size_t on_sample(std::chrono::microseconds rtt, clock::time_point now);

  std::size_t limit() const noexcept { return limit_; }
  // Still doubling: no round has shown a queue yet.
  bool in_slow_start() const noexcept { return slow_start_; }
  // The least RTT of the current and the previous window; zero before the first sample.
  std::chrono::microseconds no_load_rtt() const noexcept;

 private:
  adaptive_limit_options opts_;
  std::size_t limit_;
  bool slow_start_;
  clock::time_point window_start_;
  std::chrono::microseconds window_min_{0}, previous_min_{0};  // 0: no sample yet
  std::size_t round_samples_ = 0;
  std::chrono::microseconds round_min_{0};
};

}  // namespace etl
