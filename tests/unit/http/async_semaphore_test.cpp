// async_semaphore: never more holders than units, waiters served in arrival order.
#include "etl/core/async_semaphore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "etl/core/concurrently.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;

TEST(async_semaphore, never_more_holders_than_units_on_many_threads) {
  net::thread_pool pool(4);
  async_semaphore sem(3);
  std::atomic<int> holders{0}, most{0}, done{0};
  auto body = for_each_concurrently(2'000, 2'000, [&](std::size_t) -> net::awaitable<void> {
    auto p = co_await sem.acquire();
    const int now = ++holders;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    // Let others in while this one holds the unit: yield until a second holder came (or a
    // hundred turns, for the last ones). A single yield left the overlap to the scheduler, and
    // on a loaded machine every holder could run alone.
    for (int turn = 0; turn < 100 && holders.load() < 2; ++turn)
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    --holders;
    ++done;
  });
  auto fut = net::co_spawn(pool, std::move(body), net::use_future);
  ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
  fut.get();
  EXPECT_EQ(done.load(), 2'000);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2) << "the holders should have overlapped";
  EXPECT_EQ(sem.available(), 3u);
  EXPECT_EQ(sem.waiting(), 0u);
}

TEST(async_semaphore, waiters_get_their_unit_in_arrival_order) {
  net::io_context io;
  async_semaphore sem(1);
  std::vector<int> order;
  async_semaphore::permit first;
  net::co_spawn(
      io, [&]() -> net::awaitable<void> { first = co_await sem.acquire(); }, net::detached);
  io.run();
  io.restart();
  for (int i = 0; i < 5; ++i) {
    net::co_spawn(
        io,
        [&, i]() -> net::awaitable<void> {
          auto p = co_await sem.acquire();
          order.push_back(i);
        },
        net::detached);
  }
  io.poll();  // every one runs until it waits behind `first`
  io.restart();
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(sem.waiting(), 5u);
  first.reset();
  io.run();  // each unit passes to the next waiter until all are done
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sem.available(), 1u);
}

TEST(async_semaphore, try_acquire_takes_a_free_unit_and_never_one_a_waiter_is_owed) {
  net::io_context io;
  async_semaphore sem(2);
  auto a = sem.try_acquire();
  EXPECT_TRUE(a);
  EXPECT_EQ(sem.available(), 1u);
  auto b = sem.try_acquire();
  EXPECT_TRUE(b);
  EXPECT_FALSE(sem.try_acquire()) << "no unit is free";
  bool waiter_got_it = false;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto p = co_await sem.acquire();
        waiter_got_it = true;
      },
      net::detached);
  io.poll();  // the waiter queues behind a and b
  io.restart();
  EXPECT_EQ(sem.waiting(), 1u);
  a.reset();  // the unit goes to the waiter, not back to the free count
  EXPECT_FALSE(sem.try_acquire()) << "a unit owed to a waiter was taken";
  io.run();
  EXPECT_TRUE(waiter_got_it);
  b.reset();
  EXPECT_EQ(sem.available(), 2u);
  EXPECT_TRUE(sem.try_acquire());  // a temporary: given back at once
  EXPECT_EQ(sem.available(), 2u);
}

TEST(async_semaphore, set_count_wakes_waiters_when_raised_and_takes_units_back_when_lowered) {
  net::io_context io;
  async_semaphore sem(1);
  auto a = sem.try_acquire();
  int got = 0;
  std::vector<async_semaphore::permit> held;
  for (int i = 0; i < 3; ++i) {
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
          held.push_back(co_await sem.acquire());
          ++got;
        },
        net::detached);
  }
  io.poll();
  io.restart();
  EXPECT_EQ(sem.waiting(), 3u);
  sem.set_count(3);  // two more units: two waiters in
  io.poll();
  io.restart();
  EXPECT_EQ(got, 2);
  EXPECT_EQ(sem.waiting(), 1u);
  sem.set_count(1);  // three held, one allowed: the next two releases are taken back
  a.reset();
  held[0].reset();
  io.poll();
  io.restart();
  EXPECT_EQ(got, 2) << "a unit above the lowered count was handed on";
  held[1].reset();  // back within the count: this unit passes to the last waiter
  io.run();
  EXPECT_EQ(got, 3);
  EXPECT_EQ(sem.available(), 0u);
  held.clear();
  EXPECT_EQ(sem.available(), 1u);
  EXPECT_EQ(sem.count(), 1u);
}

}  // namespace
}  // namespace etl
