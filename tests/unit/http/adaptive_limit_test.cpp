// adaptive_limit: doubles from the start until a queue shows (slow start), then rises by one
// while RTT holds, falls when the upstream queues, never leaves [floor, ceiling], and ignores an
// outlier and CPU noise on a fast upstream. Samples are fed by
// hand with a hand-moved clock: no sleeps, no network.
#include "etl/http/adaptive_limit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace etl {
namespace {

using namespace std::chrono_literals;
using clock_type = adaptive_limit::clock;

// A simulated upstream of `slots` servers of `cost` each: a request's RTT when `in_flight` are
// out (those beyond the slots wait their turn).
std::chrono::microseconds queued_rtt(std::size_t in_flight, std::size_t slots,
                                     std::chrono::microseconds cost) {
  const auto rounds = std::max<std::size_t>(1, (in_flight + slots - 1) / slots);
  return cost * static_cast<long>(rounds);
}

// Feeds `rounds` rounds of samples, each RTT from `rtt_of(limit)`, 1 ms apart; returns the limit.
template <class F>
std::size_t run(adaptive_limit& l, clock_type::time_point& now, int rounds, F rtt_of) {
  for (int r = 0; r < rounds; ++r) {
    const auto n = l.limit();
    for (std::size_t i = 0; i < n; ++i) {
      now += 1ms;
      l.on_sample(rtt_of(l.limit()), now);
    }
  }
  return l.limit();
}

TEST(adaptive_limit, starts_at_the_ceiling_unless_told_and_stays_within_bounds) {
  EXPECT_EQ(adaptive_limit({.floor = 4, .ceiling = 64}).limit(), 64u);
  EXPECT_EQ(adaptive_limit({.floor = 4, .ceiling = 64, .initial = 10}).limit(), 10u);
  EXPECT_EQ(adaptive_limit({.floor = 4, .ceiling = 64, .initial = 1}).limit(), 4u);
  EXPECT_EQ(adaptive_limit({.floor = 0, .ceiling = 0}).limit(), 1u);  // at least one
}

TEST(adaptive_limit, slow_start_reaches_the_ceiling_of_a_far_upstream_in_a_few_rounds) {
  // An upstream 100 ms away that never queues: each round takes an RTT, so growing by one from 4
  // to 64 would take 60 rounds (6 s, longer than a whole task). Doubling takes 4.
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 4}, now);
  auto far = [](std::size_t) { return std::chrono::microseconds{100ms}; };
  EXPECT_EQ(run(l, now, 1, far), 8u);
  EXPECT_EQ(run(l, now, 3, far), 64u);
  EXPECT_EQ(run(l, now, 10, far), 64u) << "stops at the ceiling";
  EXPECT_TRUE(l.in_slow_start()) << "no queue seen yet";
}

TEST(adaptive_limit, slow_start_ends_at_the_first_queue_and_then_goes_by_one) {
  // 8 slots of 10 ms: 4 and 8 in flight meet no queue (doubling), 16 wait one round each (an
  // estimated queue of 16 x (1 - 12 / 20) = 6.4, above beta): the limit drops to 16 - 6.4 + 3.
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 4}, now);
  auto upstream = [](std::size_t in_flight) { return queued_rtt(in_flight, 8, 10ms); };
  EXPECT_EQ(run(l, now, 2, upstream), 16u);
  EXPECT_TRUE(l.in_slow_start());
  EXPECT_EQ(run(l, now, 1, upstream), 13u);
  EXPECT_FALSE(l.in_slow_start());
  EXPECT_EQ(run(l, now, 10, upstream), 13u) << "a queue of 5.2: within the band";
  // From now on one a round, even when the RTT holds.
  EXPECT_EQ(run(l, now, 2, [](std::size_t) { return 10ms; }), 15u);
}

TEST(adaptive_limit, slow_start_that_overshot_drops_to_what_the_upstream_serves) {
  // The caller had few requests to send while the limit doubled (a batch's listing pages), so the
  // limit reached the ceiling untested; then 64 arrive at 8 slots of 9.8 ms: 8 rounds of queue,
  // an estimated 64 x (1 - 11.8 / 78.4) = 54.4 waiting. Going down by one would take 50 rounds.
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 4}, now);
  EXPECT_EQ(run(l, now, 4, [](std::size_t) { return 9'800us; }), 64u);
  auto upstream = [](std::size_t in_flight) { return queued_rtt(in_flight, 8, 9'800us); };
  const auto dropped = run(l, now, 1, upstream);
  EXPECT_FALSE(l.in_slow_start());
  EXPECT_GE(dropped, 8u);
  EXPECT_LE(dropped, 16u);
  const auto settled = run(l, now, 400, upstream);
  EXPECT_GE(settled, 8u);
  EXPECT_LE(settled, 24u);
}

TEST(adaptive_limit, grows_by_one_a_round_while_the_rtt_holds) {
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 4, .slow_start = false}, now);
  EXPECT_EQ(run(l, now, 1, [](std::size_t) { return 10ms; }), 5u);
  EXPECT_EQ(run(l, now, 3, [](std::size_t) { return 10ms; }), 8u);
  EXPECT_EQ(run(l, now, 200, [](std::size_t) { return 10ms; }), 64u) << "stops at the ceiling";
}

TEST(adaptive_limit, settles_near_the_knee_of_a_capacity_bound_upstream) {
  // 8 slots of 9.8 ms: the knee is at 8-16 in flight; at 64 each request waits 8 rounds.
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64}, now);
  auto upstream = [](std::size_t in_flight) { return queued_rtt(in_flight, 8, 9'800us); };
  // Before any light-load sample the no-load RTT is the queued one: the limit holds...
  run(l, now, 5, upstream);
  EXPECT_EQ(l.limit(), 64u);
  // ...until the upstream is seen unloaded once (another client's lull, a task's start).
  now += 1ms;
  l.on_sample(9'800us, now);
  const auto settled = run(l, now, 400, upstream);
  EXPECT_GE(settled, 8u) << "below the slots: the upstream idles";
  EXPECT_LE(settled, 24u) << "far beyond the knee: the upstream queues";
  EXPECT_EQ(l.no_load_rtt(), 9'800us);
  // And it stays there.
  EXPECT_EQ(run(l, now, 100, upstream), settled);
}

TEST(adaptive_limit, settles_near_the_knee_from_the_floor_too) {
  // As the HTTP client starts it: at the floor, slow start on.
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 4}, now);
  auto upstream = [](std::size_t in_flight) { return queued_rtt(in_flight, 8, 9'800us); };
  const auto settled = run(l, now, 400, upstream);
  EXPECT_GE(settled, 8u) << "below the slots: the upstream idles";
  EXPECT_LE(settled, 24u) << "far beyond the knee: the upstream queues";
  EXPECT_EQ(run(l, now, 100, upstream), settled);
}

TEST(adaptive_limit, backs_off_when_latency_grows_without_throughput_and_never_below_the_floor) {
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 8, .ceiling = 64, .initial = 32, .slow_start = false}, now);
  run(l, now, 2, [](std::size_t) { return 10ms; });
  EXPECT_EQ(l.limit(), 34u);
  // A tenfold RTT at any limit: an upstream that slowed down under load. The estimated queue,
  // limit x 0.88, stays above beta (6) down to 7 in flight: the floor (8) stops it first.
  EXPECT_EQ(run(l, now, 10, [](std::size_t) { return 100ms; }), 24u);
  EXPECT_EQ(run(l, now, 200, [](std::size_t) { return 100ms; }), 8u) << "stops at the floor";
}

TEST(adaptive_limit, a_single_outlier_in_a_round_does_not_move_it_down) {
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 16, .slow_start = false}, now);
  run(l, now, 1, [](std::size_t) { return 10ms; });
  ASSERT_EQ(l.limit(), 17u);
  // Each round one answer is a 5 s pause: the round's least RTT is still the usual one.
  for (int r = 0; r < 5; ++r) {
    const auto n = l.limit();
    for (std::size_t i = 0; i < n; ++i) {
      now += 1ms;
      l.on_sample(i == 0 ? 5s : std::chrono::microseconds{10ms}, now);
    }
  }
  EXPECT_EQ(l.limit(), 22u);
}

TEST(adaptive_limit, cpu_noise_on_a_fast_upstream_does_not_collapse_it) {
  // A loopback upstream answers in 150 us unloaded; the client's busy event loop makes it 1.5 ms
  // at any limit. Within the tolerance: not a queue, so the limit stays at the ceiling.
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64}, now);
  now += 1ms;
  l.on_sample(150us, now);
  EXPECT_EQ(run(l, now, 100, [](std::size_t) { return 1'500us; }), 64u);
  // And from the floor, slow start climbs through the noise to the ceiling.
  adaptive_limit f({.floor = 4, .ceiling = 64, .initial = 4}, now);
  now += 1ms;
  f.on_sample(150us, now);
  EXPECT_EQ(run(f, now, 5, [](std::size_t) { return 1'500us; }), 64u);
}

TEST(adaptive_limit, the_no_load_rtt_forgets_an_old_minimum_after_two_windows) {
  auto now = clock_type::time_point{};
  adaptive_limit l({.floor = 4, .ceiling = 64, .initial = 4, .window = 10s}, now);
  l.on_sample(5ms, now);
  EXPECT_EQ(l.no_load_rtt(), 5ms);
  // The upstream is slower for good (20 ms): a window later the old minimum is still kept...
  now += 10s;
  l.on_sample(20ms, now);
  EXPECT_EQ(l.no_load_rtt(), 5ms);
  // ...and after the second window it is gone.
  now += 10s;
  l.on_sample(20ms, now);
  EXPECT_EQ(l.no_load_rtt(), 20ms);
}

}  // namespace
}  // namespace etl
