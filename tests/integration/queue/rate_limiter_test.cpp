// The pool-wide rate limit (etl::redis_rate_limiter) against a real redis-server: the burst a
// full bucket gives, the refill by elapsed time, two limiters (two worker processes, say) that
// share one bucket, the script loaded again after Redis forgot it, and an unreachable Redis that
// fails the caller (and an HTTP client's request, unsent) instead of letting it through.
#include "etl/queue/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "etl/http/client.hpp"
#include "etl/queue/redis_connection.hpp"
#include "etl/test/redis_server.hpp"
#include "etl/test/redis_test_options.hpp"
#include "etl/test/sim_process.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

rate_limiter_options bucket(double capacity, double per_second, std::string key = "etl:rl:test") {
  return {std::move(key), capacity, per_second};
}

// Runs limiter.acquire() `n` times in a row on an io_context of its own; returns the errors.
std::vector<error_code> acquire_n(redis_rate_limiter& limiter, int n) {
  net::io_context io;
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<std::vector<error_code>> {
        std::vector<error_code> out;
        for (int i = 0; i < n; ++i)
          out.push_back(co_await limiter.acquire());
        co_return out;
      },
      net::use_future);
  io.run();
  return done.get();
}

TEST(redis_rate_limiter, a_full_bucket_gives_its_burst_then_says_how_long_to_wait) {
  test::redis_server server;
  // 5 tokens, one more every 2 s: the burst is 5, the 6th waits up to 2 s.
  redis_rate_limiter limiter(redis_test_options(server), bucket(5, 0.5));
  for (int i = 0; i < 5; ++i) {
    auto got = limiter.try_acquire_blocking();
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->count(), 0) << "token " << i;
  }
  auto wait = limiter.try_acquire_blocking();
  ASSERT_TRUE(wait) << wait.error().message();
  EXPECT_GT(*wait, 1500ms);
  EXPECT_LE(*wait, 2000ms);
  // The bucket expires once it would be full again: no key left behind for ever.
  redis_connection conn(redis_test_options(server));
  auto ttl = conn.command({"PTTL", "etl:rl:test"});
  ASSERT_TRUE(ttl);
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 5 * 2000 + 1000);
}

TEST(redis_rate_limiter, tokens_refill_by_elapsed_time_and_acquire_waits_for_them) {
  test::redis_server server;
  // One token, 20 a second: 11 acquisitions take at least 10 refills of 50 ms.
  redis_rate_limiter limiter(redis_test_options(server), bucket(1, 20));
  const auto start = steady::now();
  for (const auto& ec : acquire_n(limiter, 11))
    ASSERT_FALSE(ec) << ec.message();
  const auto took = steady::now() - start;
  EXPECT_GE(took, 480ms);  // 500 ms, less the rounding of Redis's clock
  EXPECT_LT(took, 3s);
}

TEST(redis_rate_limiter, two_limiters_on_one_key_share_the_bucket) {
  test::redis_server server;
  // Two processes of the pool: each its own connection, one key. No refill to speak of.
  redis_rate_limiter a(redis_test_options(server), bucket(4, 0.001));
  redis_rate_limiter b(redis_test_options(server), bucket(4, 0.001));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(a.try_acquire_blocking().value().count(), 0);
  EXPECT_EQ(b.try_acquire_blocking().value().count(), 0);
  EXPECT_GT(b.try_acquire_blocking().value().count(), 0);
  EXPECT_GT(a.try_acquire_blocking().value().count(), 0);
  // Another key is another upstream: its bucket is full.
  redis_rate_limiter other(redis_test_options(server), bucket(4, 0.001, "etl:rl:other"));
  EXPECT_EQ(other.try_acquire_blocking().value().count(), 0);
}

TEST(redis_rate_limiter, two_limiters_acquiring_at_once_stay_within_the_rate) {
  test::redis_server server;
  // 1 token, 10 a second; two threads (two processes) take 8 each: 16 grants need at least
  // 15 refills of 100 ms, whichever limiter gets them.
  redis_rate_limiter a(redis_test_options(server), bucket(1, 10));
  redis_rate_limiter b(redis_test_options(server), bucket(1, 10));
  const auto start = steady::now();
  std::vector<error_code> from_b;
  std::thread other([&] { from_b = acquire_n(b, 8); });
  const auto from_a = acquire_n(a, 8);
  other.join();
  const auto took = steady::now() - start;
  for (const auto& ec : from_a)
    EXPECT_FALSE(ec) << ec.message();
  for (const auto& ec : from_b)
    EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(took, 1480ms);
  EXPECT_LT(took, 5s);
}

TEST(redis_rate_limiter, a_redis_that_forgot_the_script_gets_it_again) {
  test::redis_server server;
  redis_rate_limiter limiter(redis_test_options(server), bucket(10, 1));
  ASSERT_TRUE(limiter.try_acquire_blocking());
  redis_connection conn(redis_test_options(server));
  ASSERT_TRUE(conn.command({"SCRIPT", "FLUSH"}));
  auto got = limiter.try_acquire_blocking();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->count(), 0);
  auto level = conn.command({"HGET", "etl:rl:test", "level"});
  ASSERT_TRUE(level && level->is_text());
  EXPECT_EQ(std::stoll(level->str) / 1'000'000, 8);  // two tokens taken, a little refill
}

TEST(redis_rate_limiter, an_unreachable_redis_fails_the_caller_instead_of_letting_it_through) {
  test::redis_server server;
  redis_rate_limiter limiter(redis_test_options(server), bucket(100, 100));
  ASSERT_TRUE(limiter.try_acquire_blocking());
  server.stop();
  const auto start = steady::now();
  const auto errors = acquire_n(limiter, 1);
  EXPECT_TRUE(errors.at(0)) << "acquired without Redis";
  EXPECT_EQ(errors.at(0).category(), redis_category()) << errors.at(0).message();
  EXPECT_LT(steady::now() - start, 3s);
}

TEST(redis_rate_limiter, a_client_it_admits_sends_nothing_while_redis_is_down) {
  // The limiter as the worker wires it: the admission hook of a source's HTTP client.
  test::redis_server server;
  auto sim = test::sim_process::start({"--seed", "7", "--pages", "2", "--chaos-percent", "0"});
  ASSERT_TRUE(sim);
  redis_rate_limiter limiter(redis_test_options(server), bucket(100, 100));
  net::io_context io;
  http_client_options o;
  o.admit = [&limiter] { return limiter.acquire(); };
  http_client client(io.get_executor(), sim->base_url(), o);
  const auto get = [&] {
    auto done = net::co_spawn(io, client.get("/animals/v1/animals/1"), net::use_future);
    io.restart();
    io.run();
    return done.get();
  };
  auto r = get();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 200u);
  server.stop();
  r = get();
  ASSERT_FALSE(r) << "sent without asking the limit";
  EXPECT_EQ(r.error().error.category(), redis_category()) << r.error().describe();
  EXPECT_EQ(r.error().attempts, 0);
  EXPECT_EQ(client.metrics().attempts.load(), 1u);  // the first request's only
  server.start();
  r = get();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 200u);
}

TEST(redis_rate_limiter, bad_options_are_start_up_errors) {
  redis_options r;
  EXPECT_THROW(redis_rate_limiter(r, bucket(1, 1, "")), std::invalid_argument);
  EXPECT_THROW(redis_rate_limiter(r, bucket(0.5, 1)), std::invalid_argument);
  EXPECT_THROW(redis_rate_limiter(r, bucket(1, 0)), std::invalid_argument);
}

}  // namespace
}  // namespace etl
