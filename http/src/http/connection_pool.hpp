// The keep-alive connection pool of one origin, private to the HTTP client engine.
//
// It caps the connections open to the origin (busy and idle). A request takes an idle
// connection or the right to open a new one; when the cap is reached it waits, on its own
// strand, until a connection comes back or a slot frees. Idle connections that the peer closed,
// or that sat longer than the idle timeout, are dropped instead of reused.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "etl/core/aliases.hpp"

namespace etl {

struct pooled_connection {
  explicit pooled_connection(net::any_io_executor ex) : stream(std::move(ex)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since{};
};
using connection_ptr = std::unique_ptr<pooled_connection>;

class connection_pool {
 public:
  connection_pool(std::size_t max_connections, std::chrono::milliseconds idle_timeout);

  // An idle connection (reused), or a null pointer that stands for a reserved slot: the caller
  // opens the connection itself and must hand the slot back through release or discard.
  // Waits while the cap is reached; errc::timeout when `deadline` passes first. Must be awaited
  // from a coroutine that runs on a strand (the wake-up is posted to its executor).
  net::awaitable<result<connection_ptr>> acquire(std::chrono::steady_clock::time_point deadline);

  // Returns a healthy connection whose last answer allowed keep-alive.
  void release(connection_ptr c);

  // Closes a broken connection (or gives back an unused slot when `c` is null).
  void discard(connection_ptr c);

  // Closes every idle connection.
  void close_idle();

  std::size_t open_connections() const;

 private:
  struct waiter;
  // With mu_ held: gives `c` (a connection, or a slot when null) to the oldest waiter.
  bool hand_to_waiter(connection_ptr& c);

  const std::size_t max_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::vector<connection_ptr> idle_;  // newest last: reuse the warmest connection first
  std::deque<std::shared_ptr<waiter>> waiters_;
  std::size_t open_ = 0;  // busy + idle + slots handed out
};

}  // namespace etl
