#include "etl/core/async_semaphore.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace etl {

async_semaphore::async_semaphore(std::size_t count) : available_(std::max<std::size_t>(count, 1)) {}

net::awaitable<async_semaphore::permit> async_semaphore::acquire() {
  auto ex = co_await net::this_coro::executor;
  std::shared_ptr<wake_channel> wake;
  {
    std::lock_guard lock(mu_);
    if (available_ > 0) {
      --available_;
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
  if (available_ == 0)
    return permit{};
  --available_;
  return permit(this);
}

void async_semaphore::release() noexcept {
  std::shared_ptr<wake_channel> next;
  {
    std::lock_guard lock(mu_);
    if (waiters_.empty()) {
      ++available_;
      return;
    }
    next = std::move(waiters_.front());
    waiters_.pop_front();
  }
  next->try_send(error_code{});
}

std::size_t async_semaphore::available() const {
  std::lock_guard lock(mu_);
  return available_;
}

std::size_t async_semaphore::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

}  // namespace etl
