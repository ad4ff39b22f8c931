// What the simulator saw: the received-id bitmap and the counters behind GET /sim/report.
//
// Request counters are atomics (the GET hot path touches them); the received state is behind a
// mutex, taken once per POST of at most 100 animals, so a report is a consistent snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "etl/sim/capacity.hpp"
#include "etl/sim/chaos.hpp"
#include "etl/sim/dataset.hpp"
#include "etl/sim/faults.hpp"
#include "etl/sim/validate.hpp"

namespace etl {

class sim_report {
 public:
  // Tracks the animals of `data` (kept by reference: it must outlive the report).
  sim_report(const sim_dataset& data, bool verify);

  void count_request() noexcept { requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_connection() noexcept { connections_.fetch_add(1, std::memory_order_relaxed); }
  void count_chaos(sim_chaos_verdict::kind what) noexcept { chaos_.count_chaos(what); }
  void count_fault(sim_fault fault) noexcept { chaos_.count_fault(fault); }
  // One POST to home received whole, before its chaos and delay (a test can act while it waits).
  void count_post_admitted() noexcept { posts_admitted_.fetch_add(1, std::memory_order_relaxed); }
  // One POST to home turned away by --refuse-posts (503, not handled).
  void count_post_refused() noexcept { posts_refused_.fetch_add(1, std::memory_order_relaxed); }
  // One POST to home that reached the handler; `failed` when its answer was not 200.
  void count_post(bool failed) noexcept;
  // A listing or detail GET begins (read whole) and ends (answered, or its connection dropped):
  // the report's "source_gets_in_flight_max" is the most there were at once.
  void source_get_began() noexcept;
  void source_get_ended() noexcept {
    source_gets_in_flight_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Takes the animals of one validated POST, in order: marks each id received and counts
  // duplicates, unexpected ids and fields that differ from the source. In verify mode the first
  // repeated or unknown id stops it and it returns false (the ids before it stay received): the
  // handler then answers 500. Otherwise returns true.
  bool take_post(std::span<const sim_home_animal> animals);

  // Adds the service slots' counters to the report as "capacity" (capacity.hpp); nullptr, the
  // default, leaves the key out. `capacity` must outlive the report.
  void attach_capacity(const sim_capacity* capacity) noexcept { capacity_ = capacity; }

  // Clears every counter and the received state (the chaos sequence is not affected).
  void reset();

  // GET /sim/report's body: {"total", "listed" (ids the listing shows: total without those a
  // repeating page replaced), "received", "duplicates", "missing" (listed, not received),
  // "unexpected",
  // "mismatched": {"name", "friends", "born_at"}, "posts_admitted", "posts_refused",
  // "posts", "posts_failed",
  // "requests", "source_gets_in_flight_max",
  // "connections", "chaos": {"errors", "pauses"}, "faults": {<kind>: n}, "first_missing",
  // "first_duplicates", ..., and "capacity" when attached}.
  std::string to_json() const;

  std::int64_t received() const;
  std::uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }

 private:
  using counter = std::atomic<std::uint64_t>;
  static constexpr std::size_t first_few = 10;

  const sim_dataset& data_;
  const bool verify_;
  const sim_capacity* capacity_ = nullptr;
  counter requests_{0};
  counter connections_{0};
  sim_chaos_counters chaos_;
  counter posts_admitted_{0};
  counter posts_refused_{0};
  counter posts_{0};
  counter posts_failed_{0};
  counter source_gets_in_flight_{0};
  counter source_gets_in_flight_max_{0};

  mutable std::mutex mutex_;  // guards everything below
  std::vector<std::uint64_t> received_bits_;
  std::int64_t received_ = 0;
  std::int64_t received_unlisted_ = 0;  // received ids the listing does not show
  std::uint64_t duplicates_ = 0;
  std::uint64_t unexpected_ = 0;
  std::uint64_t animals_posted_ = 0;
  std::uint64_t mismatched_name_ = 0;
  std::uint64_t mismatched_friends_ = 0;
  std::uint64_t mismatched_born_at_ = 0;
  std::vector<std::int64_t> first_duplicates_;
  std::vector<std::int64_t> first_unexpected_;
};

}  // namespace etl
