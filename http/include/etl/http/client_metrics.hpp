// Counters of the HTTP client engine, updated lock-free from any thread and read by the
// metrics exporter: requests, attempts, retries by reason, hedges, connections, latency.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "etl/http/retry_policy.hpp"

namespace etl {

// A fixed-bucket latency histogram (Prometheus style: cumulative on export), with a quantile
// estimate used to pick the hedge delay.
class latency_histogram {
 public:
  // Upper bounds in microseconds; the last bucket is +Inf.
  static constexpr std::array<std::uint64_t, 16> bounds_us{
      250,     500,     1'000,   2'000,     5'000,     10'000,    20'000,     50'000,
      100'000, 200'000, 500'000, 1'000'000, 2'000'000, 5'000'000, 10'000'000, 30'000'000};

  void record(std::chrono::microseconds d) noexcept;
  std::uint64_t count() const noexcept;
  std::uint64_t sum_us() const noexcept;
  // Observations in bucket i (not cumulative); i == bounds_us.size() is the +Inf bucket.
  std::uint64_t bucket(std::size_t i) const noexcept;
  // The upper bound of the bucket holding quantile q (0 < q < 1), or nothing when empty.
  std::optional<std::chrono::microseconds> quantile(double q) const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, bounds_us.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

struct http_client_metrics {
  std::atomic<std::uint64_t> requests{0};  // calls of get/post
  std::atomic<std::uint64_t> attempts{0};  // attempts sent, hedges included
  std::atomic<std::uint64_t> answered{0};  // requests that ended with a response (any status)
  std::atomic<std::uint64_t> failures{0};  // requests that ended in an http_failure
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(retry_reason::count_)> retries{};
  std::atomic<std::uint64_t> hedges_sent{0};
  std::atomic<std::uint64_t> hedges_won{0};  // the hedge answered first
  // A hedge delay passed but the in-flight budget (max_in_flight) had no free place: requests
  // were queueing for one, the upstream was saturated, and a copy would only have added load.
  std::atomic<std::uint64_t> hedges_skipped{0};
  // The in-flight limit now: max_in_flight, or where the adaptive limit stands (0: no limit).
  std::atomic<std::uint64_t> in_flight_limit{0};
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> connections_reused{0};
  std::atomic<std::uint64_t> stale_retries{0};  // a reused connection failed its first write
  latency_histogram latency;                    // successful attempts, per attempt

  std::uint64_t retries_total() const noexcept;
};

}  // namespace etl
