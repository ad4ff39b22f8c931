#include "etl/sim/capacity.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace etl {

// A coroutine waiting for a slot. release() hands it a slot by sending into `wake` (under the
// lock, so the waiter cannot go away meanwhile); a waiter destroyed while it waits (its
// io_context shut down) takes itself out of the queue.
struct sim_capacity::waiter {
  waiter(sim_capacity& o, const net::any_io_executor& ex) : owner(o), wake(ex, 1) {}
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;
  ~waiter() { owner.forget(this); }

  sim_capacity& owner;
  net::experimental::concurrent_channel<void(error_code)> wake;
  std::size_t waiting_at_grant = 0;  // the queue behind it when it got its slot
};

sim_capacity::sim_capacity(const sim_capacity_settings& settings) : settings_(settings) {
  if (settings_.slots == 0) {
    throw std::invalid_argument("sim_capacity needs at least one slot");
  }
}

net::awaitable<void> sim_capacity::serve() {
  const auto ex = co_await net::this_coro::executor;
  std::optional<waiter> queued;
  std::size_t waiting = 0;
  {
    std::lock_guard lock(mu_);
    if (counters_.first_request_us == 0) {
      counters_.first_request_us = std::max<std::uint64_t>(elapsed_us(), 1);
    }
    if (busy_ < settings_.slots && waiters_.empty()) {
      ++busy_;
      counters_.busy_max = std::max<std::uint64_t>(counters_.busy_max, busy_);
    } else {
      queued.emplace(*this, ex);
      waiters_.push_back(&*queued);
      ++counters_.queued;
      counters_.waiting_max = std::max<std::uint64_t>(counters_.waiting_max, waiters_.size());
    }
  }
  if (queued) {
    // The slot is ours once the send is received: release() counted it busy for us.
    co_await queued->wake.async_receive(net::as_tuple(net::use_awaitable));
    waiting = queued->waiting_at_grant;
  }
  const auto hold = settings_.hold_for(waiting);
  net::steady_timer timer(ex, hold);
  co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  {
    std::lock_guard lock(mu_);
    ++counters_.served;
    counters_.hold_us += static_cast<std::uint64_t>(hold.count());
    counters_.last_served_us = elapsed_us();
  }
  release();
}

void sim_capacity::release() noexcept {
  std::lock_guard lock(mu_);
  if (waiters_.empty()) {
    --busy_;
    return;
  }
  // Hand the slot over: busy_ stays as it is.
  waiter* next = waiters_.front();
  waiters_.pop_front();
  next->waiting_at_grant = waiters_.size();
  next->wake.try_send(error_code{});
}

void sim_capacity::forget(waiter* w) noexcept {
  std::lock_guard lock(mu_);
  const auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it != waiters_.end()) {
    waiters_.erase(it);
  }
}

sim_capacity::counters sim_capacity::snapshot() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::uint64_t sim_capacity::elapsed_us() const noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - since_)
                                        .count());
}

void sim_capacity::reset_counters() {
  std::lock_guard lock(mu_);
  since_ = std::chrono::steady_clock::now();
  counters_ = {};
  counters_.busy_max = busy_;
  counters_.waiting_max = waiters_.size();
}

boost::json::object sim_capacity::to_json() const {
  const auto c = snapshot();
  return {
      {"slots", settings_.slots},
      {"cost_us", settings_.cost.count()},
      {"overload_us", settings_.overload.count()},
      {"served", c.served},
      {"queued", c.queued},
      {"waiting_max", c.waiting_max},
      {"busy_max", c.busy_max},
      {"hold_us_mean", c.served == 0 ? 0 : c.hold_us / c.served},
      {"first_request_us", c.first_request_us},
      {"last_served_us", c.last_served_us},
  };
}

}  // namespace etl
