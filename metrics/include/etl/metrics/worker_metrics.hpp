// The workers' counters and how they reach /metrics: each worker process counts in
// `worker_counters` (and its HTTP clients in `http_client_metrics`), periodically adds the
// deltas to one Redis hash shared by every worker (see metrics_publisher.hpp), and the server
// renders that hash with `worker_families`.
//
// The hash holds totals over every worker process that ever ran, so the counters stay monotonic
// across restarts and the number of series does not grow with pids. Its fields are short keys
// (e.g. "retries|connect", "latency_le_us|250") with integer values in integer units
// (microseconds for the latency sum), so HINCRBY keeps them exact.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "etl/http/client_metrics.hpp"
#include "etl/metrics/exposition.hpp"

namespace etl {

// The Redis hash the workers add their deltas to.
inline constexpr std::string_view worker_metrics_key = "etl:metrics:workers";

enum class job_kind : std::uint8_t { plan, batch, other, count_ };
enum class job_end : std::uint8_t { done, retried, dead_lettered, count_ };

// The job type field of a queued job as a job_kind ("plan", "batch", anything else: other).
job_kind job_kind_of(std::string_view type) noexcept;

// What the jobs of one worker process count, updated lock-free from any thread.
struct worker_counters {
  std::atomic<std::uint64_t> animals_fetched{0};   // details fetched (a retried batch refetches)
  std::atomic<std::uint64_t> animals_posted{0};    // in batches recorded posted (in doubt too)
  std::atomic<std::uint64_t> animals_rejected{0};  // in batches recorded
  std::atomic<std::uint64_t> batches_posted{0};    // recorded posted, not in doubt
  std::atomic<std::uint64_t> batches_failed{0};
  std::atomic<std::uint64_t> batches_in_doubt{0};  // recorded posted_in_doubt
  std::array<std::atomic<std::uint64_t>,
             static_cast<std::size_t>(job_kind::count_) * static_cast<std::size_t>(job_end::count_)>
      jobs{};

  void count_job(job_kind kind, job_end end) noexcept;
};

// Hash field -> integer value.
using metric_fields = std::map<std::string, std::int64_t>;

// The current totals of `counters` and of every client in `clients` (summed: a worker's source
// and home clients, or the one they share), as hash fields. Every field is present, zeros too.
metric_fields worker_metric_fields(const worker_counters& counters,
                                   const std::vector<const http_client_metrics*>& clients);

// `now` minus `before`, field by field (a field absent from `before` counts from 0); fields
// whose delta is 0 are left out.
metric_fields field_deltas(const metric_fields& now, const metric_fields& before);

// The workers' families (`etl_worker_...`) from the hash as HGETALL gives it: every series is
// rendered, a field that is absent or not an integer counts as 0, unknown fields are ignored.
std::vector<metric_family> worker_families(const std::map<std::string, std::string>& hash);

}  // namespace etl
