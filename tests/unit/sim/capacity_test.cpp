// The capacity-bound mode's service slots (tests/sim capacity.hpp) driven on an io_context, no
// network: at most `slots` holds at once, the rest wait first come first served, a hold lasts
// its cost plus the overload of the queue behind it, and nothing is served faster than
// slots / cost allows.
#include "etl/sim/capacity.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace etl {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// Starts `requests` coroutines that each pass through `capacity` once, all before any hold can
// end, runs the context until every one is done and returns the wall time it took; `finished`
// gets the coroutines' numbers in the order their holds ended.
clock::duration serve_all(sim_capacity& capacity, int requests, std::vector<int>& finished) {
  net::io_context context;
  for (int i = 0; i < requests; ++i) {
    net::co_spawn(
        context,
        [&capacity, &finished, i]() -> net::awaitable<void> {
          co_await capacity.serve();
          finished.push_back(i);
        },
        net::detached);
  }
  const auto start = clock::now();
  context.run();
  return clock::now() - start;
}

TEST(sim_capacity, holds_at_most_slots_at_once_and_queues_the_rest_in_order) {
  sim_capacity capacity({.slots = 2, .cost = 20ms, .overload = 0us});
  std::vector<int> finished;
  const auto elapsed = serve_all(capacity, 10, finished);

  const auto c = capacity.snapshot();
  EXPECT_EQ(c.served, 10U);
  EXPECT_EQ(c.busy_max, 2U) << "never more holds than slots";
  EXPECT_EQ(c.queued, 8U) << "every request beyond the slots waited, none was turned away";
  EXPECT_EQ(c.waiting_max, 8U);
  EXPECT_EQ(c.hold_us, 10U * 20'000U);
  // Two slots of 20 ms serve 100 requests/s at most: 10 requests take 100 ms or more.
  EXPECT_GE(elapsed, 100ms);
  EXPECT_LT(elapsed, 5s) << "the holds overlap two at a time";
  // First come first served: request i ends in round i / 2.
  ASSERT_EQ(finished.size(), 10U);
  for (std::size_t p = 0; p < finished.size(); ++p) {
    EXPECT_EQ(static_cast<std::size_t>(finished[p]) / 2, p / 2) << "position " << p;
  }
}

TEST(sim_capacity, a_hold_grows_with_the_queue_behind_it) {
  // One slot, 10 ms, 5 ms more per waiting request. Four requests at once: the first finds the
  // slot free (10 ms); then each gets it with 2, 1, 0 behind it (20, 15, 10 ms).
  sim_capacity capacity({.slots = 1, .cost = 10ms, .overload = 5ms});
  std::vector<int> finished;
  const auto elapsed = serve_all(capacity, 4, finished);
  const auto c = capacity.snapshot();
  EXPECT_EQ(c.served, 4U);
  EXPECT_EQ(c.hold_us, 55'000U);
  EXPECT_EQ(c.waiting_max, 3U);
  EXPECT_GE(elapsed, 55ms) << "one slot: the holds are back to back";
  EXPECT_EQ(finished, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_GT(c.first_request_us, 0U);
  EXPECT_GE(c.last_served_us, c.first_request_us + 55'000U) << "the last hold ends 55 ms later";
  EXPECT_EQ(capacity.settings().hold_for(120), 10ms + 120 * 5ms);
}

TEST(sim_capacity, serves_coroutines_on_several_threads_within_the_rate) {
  // Two threads run the coroutines: the slots are shared and still bound the rate.
  sim_capacity capacity({.slots = 3, .cost = 10ms, .overload = 0us});
  net::io_context context;
  std::atomic<int> done{0};
  for (int i = 0; i < 30; ++i) {
    net::co_spawn(
        context,
        [&capacity, &done]() -> net::awaitable<void> {
          co_await capacity.serve();
          done.fetch_add(1);
        },
        net::detached);
  }
  const auto start = clock::now();
  std::thread other([&context] { context.run(); });
  context.run();
  other.join();
  const auto elapsed = clock::now() - start;
  EXPECT_EQ(done.load(), 30);
  const auto c = capacity.snapshot();
  EXPECT_EQ(c.served, 30U);
  EXPECT_LE(c.busy_max, 3U);
  EXPECT_EQ(c.queued, 27U);
  EXPECT_GE(elapsed, 100ms) << "3 slots of 10 ms: 300 requests/s at most";
}

TEST(sim_capacity, counters_reset_and_report_as_json) {
  sim_capacity capacity({.slots = 1, .cost = 1ms, .overload = 2us});
  std::vector<int> finished;
  serve_all(capacity, 3, finished);
  auto json = capacity.to_json();
  EXPECT_EQ(json.at("slots").to_number<int>(), 1);
  EXPECT_EQ(json.at("cost_us").to_number<int>(), 1000);
  EXPECT_EQ(json.at("overload_us").to_number<int>(), 2);
  EXPECT_EQ(json.at("served").to_number<int>(), 3);
  EXPECT_EQ(json.at("hold_us_mean").to_number<int>(), 1000) << "(1000 + 1002 + 1000) / 3";
  capacity.reset_counters();
  EXPECT_EQ(capacity.snapshot().served, 0U);
  EXPECT_EQ(capacity.snapshot().busy_max, 0U);
  EXPECT_EQ(capacity.snapshot().first_request_us, 0U) << "no request since the reset";
  EXPECT_THROW(sim_capacity({.slots = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace etl
