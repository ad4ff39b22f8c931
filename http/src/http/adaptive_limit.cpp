#include "etl/http/adaptive_limit.hpp"

#include <algorithm>

namespace etl {
namespace {

// The lesser of two RTTs where zero means "none yet".
std::chrono::microseconds least(std::chrono::microseconds a, std::chrono::microseconds b) {
  if (a.count() == 0)
    return b;
  if (b.count() == 0)
    return a;
  return std::min(a, b);
}

}  // namespace

adaptive_limit::adaptive_limit(adaptive_limit_options opts, clock::time_point now)
    : opts_(opts), window_start_(now) {
  opts_.floor = std::max<std::size_t>(opts_.floor, 1);
  opts_.ceiling = std::max(opts_.ceiling, opts_.floor);
  limit_ =
      std::clamp(opts_.initial == 0 ? opts_.ceiling : opts_.initial, opts_.floor, opts_.ceiling);
}

std::chrono::microseconds adaptive_limit::no_load_rtt() const noexcept {
  return least(window_min_, previous_min_);
}

std::size_t adaptive_limit::on_sample(std::chrono::microseconds rtt, clock::time_point now) {
  rtt = std::max(rtt, std::chrono::microseconds{1});
  if (now - window_start_ >= opts_.window) {
    // Two generations: the minimum forgets a sample after one to two windows.
    previous_min_ = window_min_;
    window_min_ = {};
    window_start_ = now;
  }
  window_min_ = least(window_min_, rtt);
  round_min_ = least(round_min_, rtt);
  if (++round_samples_ < limit_)
    return limit_;

  const auto base = no_load_rtt() + opts_.tolerance;
  const double seen = static_cast<double>(round_min_.count());
  const double queue =
      seen <= static_cast<double>(base.count())
          ? 0.0
          : static_cast<double>(limit_) * (1.0 - static_cast<double>(base.count()) / seen);
  if (queue < opts_.alpha && limit_ < opts_.ceiling)
    ++limit_;
  else if (queue > opts_.beta && limit_ > opts_.floor)
    --limit_;
  round_samples_ = 0;
  round_min_ = {};
  return limit_;
}

}  // namespace etl
