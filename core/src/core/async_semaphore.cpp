#include "etl/core/async_semaphore.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace etl {

async_semaphore::async_semaphore(std::size_t count) : count_(std::max<std::size_t>(count, 1)) {}

net::awaitable<async_semaphore::permit> async_semaphore::acquire() {
  auto ex = co_await net::this_coro::executor;
  std::shared_ptr<wake_channel> wake;
  {
    std::lock_guard lock(mu_);
    // A unit is free only while nobody waits: release() and set_count() hand free units on.
    if (held_ < count_) {
      ++held_;
      co_return permit(this);
    }
    wake = std::make_shared<wake_channel>(ex, 1);
    waiters_.push_back(wake);
  }
  // release() hands the unit over by sending: it is ours once the send is received.
  co_await wake->async_receive(net::as_tuple(net::use_awaitable));
  co_return permit(this);
}

async_semaphore::permit async_semaphore::try_acquire() {
  std::lock_guard lock(mu_);
  if (held_ >= count_)
    return permit{};
  ++held_;
  return permit(this);
}

void async_semaphore::release() noexcept {
  std::shared_ptr<wake_channel> next;
  {
    std::lock_guard lock(mu_);
    // Above the count (it was lowered), or nobody waiting: the unit goes. Else it passes on.
    if (held_ > count_ || waiters_.empty()) {
      --held_;
      return;
    }
    next = std::move(waiters_.front());
    waiters_.pop_front();
  }
  next->try_send(error_code{});
}

void async_semaphore::set_count(std::size_t count) {
  std::vector<std::shared_ptr<wake_channel>> woken;
  {
    std::lock_guard lock(mu_);
    count_ = std::max<std::size_t>(count, 1);
    while (held_ < count_ && !waiters_.empty()) {
      ++held_;
      woken.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (auto& w : woken)
    w->try_send(error_code{});
}

std::size_t async_semaphore::available() const {
  std::lock_guard lock(mu_);
  return held_ < count_ ? count_ - held_ : 0;
}

std::size_t async_semaphore::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

std::size_t async_semaphore::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace etl
