// The HTTP client's local limits against animals-sim on loopback: a cap on requests in flight
// (max_in_flight) that the simulator itself measures, hedges that are not sent merely because
// requests waited for a pooled connection, and hedges that need a free place of that cap.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "etl/core/concurrently.hpp"
#include "etl/http/client.hpp"
#include "etl/test/sim_process.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using test::sim_process;

// Runs `body` on the pool and waits for it, failing the test instead of hanging.
void run(net::thread_pool& pool, net::awaitable<void> body) {
  auto fut = net::co_spawn(pool, std::move(body), net::use_future);
  if (fut.wait_for(120s) != std::future_status::ready) {
    ADD_FAILURE() << "the coroutine did not finish within 120 s";
    std::abort();
  }
  fut.get();
}

std::int64_t report_count(const sim_process& sim, std::string_view key) {
  return sim.report().value().as_object().at(key).to_number<std::int64_t>();
}

// `n` detail GETs, all started at once; returns how many answered 200.
int get_all_at_once(net::thread_pool& pool, http_client& client, int n) {
  std::atomic<int> ok{0};
  run(pool, for_each_concurrently(static_cast<std::size_t>(n), static_cast<std::size_t>(n),
                                  [&](std::size_t i) -> net::awaitable<void> {
                                    auto r = co_await client.get("/animals/v1/animals/" +
                                                                 std::to_string(i));
                                    if (r && r->status == 200)
                                      ++ok;
                                  }));
  return ok.load();
}

TEST(http_client_limits, max_in_flight_caps_the_requests_the_source_sees_at_once) {
  // Every GET takes 30 ms at the source, so 40 started at once overlap as far as allowed.
  auto sim = sim_process::start(
                 {"--seed", "8", "--pages", "10", "--chaos-percent", "0", "--get-delay-ms", "30"})
                 .value();
  net::thread_pool pool(2);
  http_client_options opts;
  opts.hedge = false;
  opts.max_connections = 64;
  opts.max_in_flight = 4;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  EXPECT_EQ(get_all_at_once(pool, client, 40), 40);
  const auto most = report_count(sim, "source_gets_in_flight_max");
  std::printf("most GETs in flight at the source: %lld (limit 4)\n", static_cast<long long>(most));
  EXPECT_LE(most, 4);
  EXPECT_GE(most, 2) << "the requests should have overlapped";
}

TEST(http_client_limits, waiting_for_a_pooled_connection_does_not_start_the_hedge_clock) {
  // One connection, 40 GETs at once, 50 ms each at the source: the last waits about 2 s for the
  // connection, twice the hedge delay, yet each is answered 50 ms after it was written (a
  // twentyfold margin for a loaded machine).
  auto sim = sim_process::start(
                 {"--seed", "8", "--pages", "10", "--chaos-percent", "0", "--get-delay-ms", "50"})
                 .value();
  net::thread_pool pool(2);
  http_client_options opts;
  opts.max_connections = 1;
  opts.hedge_delay = 1s;
  opts.hedge_budget = 1.0;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  EXPECT_EQ(get_all_at_once(pool, client, 40), 40);
  const auto hedges = client.metrics().hedges_sent.load();
  std::printf("hedges sent: %llu\n", static_cast<unsigned long long>(hedges));
  EXPECT_EQ(hedges, 0u) << "requests queued for the one connection were hedged";
  EXPECT_EQ(report_count(sim, "requests"), 41);  // the 40 GETs and the report's own request
}

TEST(http_client_limits, a_saturated_client_does_not_hedge) {
  // 40 GETs at once through 4 places, 400 ms each at the source, a 110 ms hedge delay: every
  // request is slow enough to be hedged three times over, but whenever its delay passes all 4
  // places are held (until the last round others queue for them; in it, the round's 4 were
  // written together and the last tick, at 330 ms, comes 70 ms before any of them is answered).
  // A copy would only lengthen the source's queue: none is sent, and every skip is counted.
  auto sim = sim_process::start(
                 {"--seed", "8", "--pages", "10", "--chaos-percent", "0", "--get-delay-ms", "400"})
                 .value();
  net::thread_pool pool(2);
  http_client_options opts;
  opts.max_connections = 64;
  opts.max_in_flight = 4;
  opts.hedge_delay = 110ms;
  opts.hedge_budget = 1.0;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  EXPECT_EQ(get_all_at_once(pool, client, 40), 40);
  const auto& m = client.metrics();
  std::printf("hedges sent: %llu, skipped: %llu\n",
              static_cast<unsigned long long>(m.hedges_sent.load()),
              static_cast<unsigned long long>(m.hedges_skipped.load()));
  EXPECT_EQ(m.hedges_sent.load(), 0u) << "a saturated client sent hedged copies";
  EXPECT_GE(m.hedges_skipped.load(), 40u) << "each request's first hedge delay should have passed";
  EXPECT_EQ(report_count(sim, "requests"), 41);  // the 40 GETs and the report's own request
  EXPECT_LE(report_count(sim, "source_gets_in_flight_max"), 4) << "copies beyond the budget";
}

TEST(http_client_limits, a_paused_get_is_hedged_on_a_saturated_client_after_the_max_delay) {
  // 60 GETs at once through 4 places, 50 ms each at the source, 10% chaos with 5 s pauses: the
  // places are always taken, so hedges at the 50 ms delay are skipped; a paused GET is an outlier
  // no queue explains, and once it has waited hedge_max_delay (300 ms) its copy queues for a
  // place and answers long before the pause ends.
  auto sim = sim_process::start({"--seed", "3", "--pages", "20", "--chaos-percent", "10",
                                 "--pause-min", "5", "--pause-max", "5", "--get-delay-ms", "50"})
                 .value();
  net::thread_pool pool(2);
  http_client_options opts;
  opts.max_in_flight = 4;
  opts.hedge_delay = 50ms;
  opts.hedge_max_delay = 300ms;
  opts.hedge_budget = 1.0;
  opts.retry.base_delay = 1ms;
  opts.retry.max_delay = 10ms;
  opts.retry.max_attempts = 10;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  std::atomic<std::int64_t> slowest_ms{0};
  run(pool, for_each_concurrently(60, 60, [&](std::size_t i) -> net::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = co_await client.get("/animals/v1/animals/" + std::to_string(i));
        EXPECT_TRUE(r && r->status == 200) << i;
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - t0)
                              .count();
        for (auto seen = slowest_ms.load();
             took > seen && !slowest_ms.compare_exchange_weak(seen, took);) {
        }
      }));
  const auto pauses =
      sim.report().value().as_object().at("chaos").as_object().at("pauses").to_number<int>();
  ASSERT_GT(pauses, 0) << "the seed must produce at least one pause";
  const auto& m = client.metrics();
  std::printf("pauses %d, hedges sent %llu, won %llu, skipped %llu, slowest %lld ms\n", pauses,
              static_cast<unsigned long long>(m.hedges_sent.load()),
              static_cast<unsigned long long>(m.hedges_won.load()),
              static_cast<unsigned long long>(m.hedges_skipped.load()),
              static_cast<long long>(slowest_ms.load()));
  EXPECT_GE(m.hedges_won.load(), 1u);
  EXPECT_GT(m.hedges_skipped.load(), 0u) << "the budget should have been full at the 50 ms delay";
  EXPECT_LT(slowest_ms.load(), 4'000) << "a 5 s pause leaked through";
  EXPECT_LE(report_count(sim, "source_gets_in_flight_max"), 4 + pauses)
      << "only the paused GETs' copies may exceed the budget at the source";
}

TEST(http_client_limits, an_outlier_is_hedged_when_the_budget_has_room) {
  // One GET at a time through 4 places, 10% chaos with 5 s pauses (about one request in twenty
  // pauses): the budget always has room, so a paused GET is hedged as without a budget.
  auto sim = sim_process::start({"--seed", "3", "--pages", "20", "--chaos-percent", "10",
                                 "--pause-min", "5", "--pause-max", "5"})
                 .value();
  net::thread_pool pool(2);
  http_client_options opts;
  opts.max_in_flight = 4;
  opts.hedge_delay = 100ms;
  opts.hedge_budget = 1.0;
  opts.retry.base_delay = 1ms;
  opts.retry.max_delay = 10ms;
  opts.retry.max_attempts = 10;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  std::atomic<std::int64_t> slowest_ms{0};
  run(pool, [&]() -> net::awaitable<void> {
    for (int id = 0; id < 100; ++id) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = co_await client.get("/animals/v1/animals/" + std::to_string(id));
      EXPECT_TRUE(r && r->status == 200) << id;
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
      slowest_ms = std::max<std::int64_t>(slowest_ms.load(), took);
    }
  }());
  const auto pauses =
      sim.report().value().as_object().at("chaos").as_object().at("pauses").to_number<int>();
  ASSERT_GT(pauses, 0) << "the seed must produce at least one pause";
  EXPECT_GE(client.metrics().hedges_won.load(), 1u);
  EXPECT_EQ(client.metrics().hedges_skipped.load(), 0u);
  EXPECT_LT(slowest_ms.load(), 2'000) << "a 5 s pause leaked through the hedge";
}

}  // namespace
}  // namespace etl
