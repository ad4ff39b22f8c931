// A counting semaphore for coroutines: at most `count` holders at once; the others wait, in
// the order they came, without blocking a thread. A process-wide limit on requests in flight
// is one (http_client_options::max_in_flight).
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include "etl/core/aliases.hpp"

namespace etl {

class async_semaphore {
 public:
  // A held unit; given back when the permit is destroyed (or reset).
  class permit {
   public:
    permit() = default;
    permit(permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    permit& operator=(permit&& other) noexcept {
      if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
      }
      return *this;
    }
    ~permit() { reset(); }
    void reset() noexcept {
      if (auto* o = std::exchange(owner_, nullptr))
        o->release();
    }
    explicit operator bool() const noexcept { return owner_ != nullptr; }

   private:
    friend class async_semaphore;
    explicit permit(async_semaphore* owner) : owner_(owner) {}
    async_semaphore* owner_ = nullptr;
  };

  // `count` >= 1 units. The semaphore must outlive every permit it hands out.
  explicit async_semaphore(std::size_t count);
  async_semaphore(const async_semaphore&) = delete;
  async_semaphore& operator=(const async_semaphore&) = delete;

  // Waits for a free unit, first come first served, on any executor. Safe from any thread.
  net::awaitable<permit> acquire();

  // A unit at once if one is free, else an empty permit: never waits, never jumps the queue (a
  // unit is free only while nobody waits). Safe from any thread.
  permit try_acquire();

  // Sets the units to `count` (at least 1): more wake waiters at once; fewer take effect as
  // holders give theirs back (no holder loses its unit). An adaptive limit moves it.
  void set_count(std::size_t count);

  // Units free now, and coroutines waiting for one (for tests and metrics).
  std::size_t available() const;
  std::size_t waiting() const;
  std::size_t count() const;

 private:
  // A waiter's wake-up: the granted unit is sent into it, so a grant that comes before the
  // waiter starts to receive is kept, not lost.
  using wake_channel = net::experimental::concurrent_channel<void(error_code)>;

  void release() noexcept;

  mutable std::mutex mu_;
  std::size_t count_;     // units in all
  std::size_t held_ = 0;  // units held; above count_ for a while after set_count lowered it
  std::deque<std::shared_ptr<wake_channel>> waiters_;
};

}  // namespace etl
