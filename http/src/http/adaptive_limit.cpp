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
    : opts_(opts), slow_start_(opts.slow_start), window_start_(now) {
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
  if (slow_start_ && queue < opts_.alpha) {
    limit_ = std::min(limit_ * 2, opts_.ceiling);
  } else if (slow_start_ && queue > opts_.beta) {
    // The first queue seen, and a deep one: the doubling overshot (or the caller had fewer
    // requests to send than the limit, so earlier rounds never tested it). The limit less the
    // queue is what the upstream serves at once; keep alpha waiting beyond it, then go by one.
    slow_start_ = false;
    const auto serving = static_cast<double>(limit_) - queue + opts_.alpha;
    limit_ = std::clamp(static_cast<std::size_t>(std::max(serving, 1.0) + 0.5), opts_.floor,
                        opts_.ceiling);
  } else {
    slow_start_ = false;  // the first queue seen: from now on by one
    if (queue < opts_.alpha && limit_ < opts_.ceiling)
      ++limit_;
    else if (queue > opts_.beta && limit_ > opts_.floor)
      --limit_;
  }
  round_samples_ = 0;
  round_min_ = {};
  return limit_;
}

}  // namespace etl
