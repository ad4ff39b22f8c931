// A capacity-bound upstream for the simulators: N service slots, each request holds one for a
// fixed cost, the others queue first come first served, and the hold grows with the queue so
// that throughput falls past the knee as a real single-process web app's does.
//
// The hold is a timer (the request sleeps in its slot; no thread spins or blocks), so the
// simulator costs next to no CPU on a shared machine and the capacity it shows is the one its
// settings say: slots / (cost + overload × waiting) requests per second, whatever else runs.
// The server (server.cpp) passes every API request through serve() after its chaos pause and
// before its handler; "/" and "/sim/*" are never held.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "etl/core/aliases.hpp"

namespace etl {

struct sim_capacity_settings {
  unsigned slots = 0;                     // service slots (server threads); 0: unbounded, no cost
  std::chrono::microseconds cost{0};      // how long a request holds its slot
  std::chrono::microseconds overload{0};  // added to a hold per request waiting when it starts

  bool enabled() const noexcept { return slots > 0; }
  // The hold of a request that takes its slot while `waiting` others queue behind it.
  std::chrono::microseconds hold_for(std::size_t waiting) const noexcept {
    return cost + overload * static_cast<std::int64_t>(waiting);
  }
};

class sim_capacity {
 public:
  // `settings.slots` must be at least 1.
  explicit sim_capacity(const sim_capacity_settings& settings);
  sim_capacity(const sim_capacity&) = delete;
  sim_capacity& operator=(const sim_capacity&) = delete;

  const sim_capacity_settings& settings() const noexcept { return settings_; }

  // Waits for a free slot (first come first served, on any executor, from any thread), holds it
  // for settings().hold_for(the requests waiting then) on a timer, and gives it back.
  net::awaitable<void> serve();

  // What serve() saw since the start or the last reset_counters():
  struct counters {
    std::uint64_t served = 0;       // holds completed
    std::uint64_t queued = 0;       // requests that found every slot taken and waited
    std::uint64_t waiting_max = 0;  // the most requests waiting at once
    std::uint64_t busy_max = 0;     // the most slots held at once (never above slots)
    std::uint64_t hold_us = 0;      // the holds' total, in microseconds (as planned, not slept)
    // When the first request reached the slots and when the last hold ended, in microseconds
    // since the start or the last reset (0 before any): a client's idle start and tail.
    std::uint64_t first_request_us = 0;
    std::uint64_t last_served_us = 0;
  };
  counters snapshot() const;
  void reset_counters();
  // {"slots", "cost_us", "overload_us", "served", "queued", "waiting_max", "busy_max",
  // "hold_us_mean", "first_request_us", "last_served_us"} for /sim/report.
  boost::json::object to_json() const;

 private:
  struct waiter;  // a coroutine waiting for a slot; lives in its frame
  void release() noexcept;
  void forget(waiter* w) noexcept;
  std::uint64_t elapsed_us() const noexcept;  // since since_; called under mu_

  const sim_capacity_settings settings_;
  mutable std::mutex mu_;  // guards everything below
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::size_t busy_ = 0;
  std::deque<waiter*> waiters_;
  counters counters_;
};

}  // namespace etl
