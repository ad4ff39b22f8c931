// The HTTP client's hooks for a source's access to its upstream: headers sent with every request
// (an API key, checked by crunchbase-sim), and the admission callback a rate limit uses: called
// before every attempt, retries included, never bypassed by a hedged copy, and failing the
// request without an attempt when it fails. And Crunchbase's 429, which has no Retry-After, is
// retried after the backoff.
#include "etl/http/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "etl/core/error.hpp"
#include "etl/test/sim_process.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using test::sim_process;

template <class T>
T run(net::thread_pool& pool, net::awaitable<T> body) {
  auto fut = net::co_spawn(pool, std::move(body), net::use_future);
  if (fut.wait_for(120s) != std::future_status::ready) {
    ADD_FAILURE() << "the coroutine did not finish within 120 s";
    std::abort();
  }
  return fut.get();
}

TEST(http_client_access, the_options_headers_go_with_every_request) {
  std::string why;
  auto cb = sim_process::start_binary("crunchbase-sim", {"--seed", "7", "--key", "k-1"}, 10s, &why);
  ASSERT_TRUE(cb) << why;
  net::thread_pool pool(2);
  http_client bare(pool.get_executor(), cb->base_url());
  http_client_options o;
  o.headers = {{"X-cb-user-key", "k-1"}};
  http_client keyed(pool.get_executor(), cb->base_url(), o);
  const std::string target = "/api/v4/autocompletes?query=a&limit=3";
  auto refused = run(pool, bare.get(target));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401u) << refused->body;
  for (int i = 0; i < 3; ++i) {
    auto answered = run(pool, keyed.get(target));
    ASSERT_TRUE(answered);
    EXPECT_EQ(answered->status, 200u) << answered->body;
  }
}

TEST(http_client_access, a_429_without_retry_after_is_retried_after_the_backoff) {
  // Crunchbase's 429 carries no Retry-After: two calls a second, six asked in a row.
  std::string why;
  auto cb = sim_process::start_binary(
      "crunchbase-sim", {"--seed", "7", "--key", "k-1", "--rate-limit", "2", "--rate-window", "1"},
      10s, &why);
  ASSERT_TRUE(cb) << why;
  net::thread_pool pool(2);
  http_client_options o;
  o.headers = {{"X-cb-user-key", "k-1"}};
  o.retry.base_delay = 200ms;
  o.retry.max_delay = 1'000ms;
  o.retry.max_attempts = 12;
  http_client client(pool.get_executor(), cb->base_url(), o);
  for (int i = 0; i < 6; ++i) {
    auto r = run(pool, client.get("/api/v4/autocompletes?query=a&limit=1"));
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->status, 200u) << r->body;
  }
  EXPECT_GT(client.metrics().retries[static_cast<std::size_t>(retry_reason::status_429)].load(),
            0u);
}

TEST(http_client_access, every_attempt_is_admitted_and_none_is_hedged) {
  // 20% chaos: immediate 5xx (retried) and pauses of 1 s (hedged, were hedging on).
  auto sim = sim_process::start({"--seed", "7", "--pages", "20", "--chaos-percent", "20",
                                 "--pause-min", "1", "--pause-max", "1"})
                 .value();
  net::thread_pool pool(2);
  std::atomic<int> admitted{0};
  http_client_options o;
  o.retry.base_delay = 1ms;
  o.retry.max_delay = 10ms;
  o.retry.max_attempts = 10;
  o.hedge_delay = 20ms;  // would hedge every pause
  o.hedge_budget = 1.0;
  o.admit = [&]() -> net::awaitable<error_code> {
    ++admitted;
    co_return error_code{};
  };
  http_client client(pool.get_executor(), sim.base_url(), o);
  const int ok = run(pool, [&]() -> net::awaitable<int> {
    int good = 0;
    for (int id = 0; id < 40; ++id) {
      auto r = co_await client.get("/animals/v1/animals/" + std::to_string(id));
      good += r && r->status == 200;
    }
    co_return good;
  }());
  EXPECT_EQ(ok, 40);
  const auto& m = client.metrics();
  EXPECT_GT(m.attempts.load(), 40u) << "the seed must cause retries";
  const auto chaos = sim.report().value().at("chaos").as_object();
  EXPECT_GT(chaos.at("pauses").to_number<std::int64_t>(), 0) << "the seed must cause a pause";
  EXPECT_EQ(m.hedges_sent.load(), 0u);
  EXPECT_EQ(static_cast<std::uint64_t>(admitted.load()), m.attempts.load());
}

TEST(http_client_access, a_refused_admission_fails_the_request_without_an_attempt) {
  auto sim = sim_process::start({"--seed", "7", "--pages", "2", "--chaos-percent", "0"}).value();
  net::thread_pool pool(2);
  http_client_options o;
  o.admit = []() -> net::awaitable<error_code> { co_return make_error_code(errc::cancelled); };
  http_client client(pool.get_executor(), sim.base_url(), o);
  auto r = run(pool, client.get("/animals/v1/animals/1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, errc::cancelled);
  EXPECT_EQ(r.error().attempts, 0);
  EXPECT_EQ(client.metrics().attempts.load(), 0u);
}

}  // namespace
}  // namespace etl
