// Runs blocking work (libpqxx, hiredis, file I/O) on a thread pool of its own, so that an event
// loop never waits on it: the calling coroutine suspends and resumes on its own executor with
// the result.
#pragma once

#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/core/aliases.hpp"

namespace etl {

// Calls `f()` on a thread of `pool` and returns its result to the awaiting coroutine. An
// exception thrown by `f` (a bug: expected failures are values) is rethrown in the caller.
template <class F>
net::awaitable<std::invoke_result_t<F>> run_blocking(net::thread_pool::executor_type pool, F f) {
  using value_type = std::invoke_result_t<F>;
  co_return co_await net::co_spawn(
      pool, [f = std::move(f)]() mutable -> net::awaitable<value_type> { co_return f(); },
      net::use_awaitable);
}

}  // namespace etl
