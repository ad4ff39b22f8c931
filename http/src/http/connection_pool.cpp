#include "connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/core/error.hpp"

namespace etl {
namespace {

using steady = std::chrono::steady_clock;

// An idle HTTP/1.1 connection must be silent: EOF means the peer closed it (keep-alive timeout),
// and unsolicited bytes mean it is out of step. Either way it is not reused.
bool still_usable(pooled_connection& c) {
  auto& sock = c.stream.socket();
  if (!sock.is_open() || c.buffer.size() != 0)
    return false;
  char byte;
  const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

struct connection_pool::waiter {
  waiter(net::any_io_executor ex, steady::time_point deadline) : timer(std::move(ex), deadline) {}
  net::steady_timer timer;
  bool granted = false;  // guarded by the pool's mutex
  connection_ptr conn;   // what was granted: a connection, or null for a slot
};

connection_pool::connection_pool(std::size_t max_connections,
                                 std::chrono::milliseconds idle_timeout)
    : max_(std::max<std::size_t>(max_connections, 1)), idle_timeout_(idle_timeout) {}

net::awaitable<result<connection_ptr>> connection_pool::acquire(steady::time_point deadline) {
  auto ex = co_await net::this_coro::executor;
  std::shared_ptr<waiter> w;
  std::vector<connection_ptr> stale;  // closed outside the lock
  {
    std::lock_guard lock(mu_);
    const auto now = steady::now();
    while (!idle_.empty()) {
      connection_ptr c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->idle_since < idle_timeout_ && still_usable(*c))
        co_return c;
      stale.push_back(std::move(c));
    }
    open_ -= stale.size();
    if (open_ < max_) {
      ++open_;
      co_return connection_ptr{};
    }
    w = std::make_shared<waiter>(ex, deadline);
    waiters_.push_back(w);
  }
  stale.clear();
  // The grant posts a cancel to this strand, which cannot run before we are suspended here,
  // so no wake-up is lost between the unlock above and the wait.
  co_await w->timer.async_wait(net::as_tuple(net::use_awaitable));
  std::lock_guard lock(mu_);
  if (w->granted)
    co_return std::move(w->conn);
  std::erase(waiters_, w);
  co_return make_error_code(errc::timeout);
}

bool connection_pool::hand_to_waiter(connection_ptr& c) {
  if (waiters_.empty())
    return false;
  auto w = std::move(waiters_.front());
  waiters_.pop_front();
  w->granted = true;
  w->conn = std::move(c);
  net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  return true;
}

void connection_pool::release(connection_ptr c) {
  std::lock_guard lock(mu_);
  if (hand_to_waiter(c))
    return;
  c->idle_since = steady::now();
  idle_.push_back(std::move(c));
}

void connection_pool::discard(connection_ptr c) {
  c.reset();
  std::lock_guard lock(mu_);
  if (hand_to_waiter(c))
    return;
  --open_;
}

void connection_pool::close_idle() {
  std::vector<connection_ptr> closing;
  std::lock_guard lock(mu_);
  open_ -= idle_.size();
  closing.swap(idle_);
}

std::size_t connection_pool::open_connections() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace etl
