// Structured concurrency for a known number of coroutines: run fn(0..n-1) with at most `limit`
// at once and resume the caller when every one has finished.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/core/aliases.hpp"

namespace etl {

// Calls `co_await fn(i)` for every i in [0, n), at most `limit` (>= 1) at a time, on the
// caller's executor. Returns when all have finished. An exception escaping fn (a bug) is logged
// and does not stop the others.
template <class F>
net::awaitable<void> for_each_concurrently(std::size_t n, std::size_t limit, F fn) {
  if (n == 0)
    co_return;
  auto ex = co_await net::this_coro::executor;
  using done_channel = net::experimental::concurrent_channel<void(error_code)>;
  auto done = std::make_shared<done_channel>(ex, 1);
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  auto running = std::make_shared<std::atomic<std::size_t>>(std::clamp<std::size_t>(limit, 1, n));
  const std::size_t lanes = running->load();
  // `fn` lives in this frame, which outlives every lane: the caller waits for all of them.
  for (std::size_t lane = 0; lane < lanes; ++lane) {
    net::co_spawn(
        ex,
        [&fn, next, n]() -> net::awaitable<void> {
          for (std::size_t i = next->fetch_add(1); i < n; i = next->fetch_add(1)) {
            try {
              co_await fn(i);
            } catch (const std::exception& e) {
              spdlog::error("concurrent task {} failed: {}", i, e.what());
            }
          }
        },
        [done, running](std::exception_ptr) {
          if (running->fetch_sub(1) == 1)
            done->try_send(error_code{});
        });
  }
  co_await done->async_receive(net::as_tuple(net::use_awaitable));
}

}  // namespace etl
