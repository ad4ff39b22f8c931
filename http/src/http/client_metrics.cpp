#include "etl/http/client_metrics.hpp"

#include <cmath>

namespace etl {

void latency_histogram::record(std::chrono::microseconds d) noexcept {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0));
  std::size_t i = 0;
  while (i < bounds_us.size() && us > bounds_us[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(us, std::memory_order_relaxed);
}

std::uint64_t latency_histogram::count() const noexcept {
  return count_.load(std::memory_order_relaxed);
}

std::uint64_t latency_histogram::sum_us() const noexcept {
  return sum_us_.load(std::memory_order_relaxed);
}

std::uint64_t latency_histogram::bucket(std::size_t i) const noexcept {
  return i < buckets_.size() ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

std::optional<std::chrono::microseconds> latency_histogram::quantile(double q) const noexcept {
  std::uint64_t total = 0;
  for (const auto& b : buckets_)
    total += b.load(std::memory_order_relaxed);
  if (total == 0)
    return std::nullopt;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bounds_us.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank)
      return std::chrono::microseconds{bounds_us[i]};
  }
  return std::chrono::microseconds{bounds_us.back()};
}

std::uint64_t http_client_metrics::retries_total() const noexcept {
  std::uint64_t n = 0;
  for (const auto& r : retries)
    n += r.load(std::memory_order_relaxed);
  return n;
}

}  // namespace etl
