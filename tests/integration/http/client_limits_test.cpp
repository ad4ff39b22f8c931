// The HTTP client's local limits against animals-sim on loopback: a cap on requests in flight
// (max_in_flight) that the simulator itself measures, and hedges that are not sent merely
// because requests waited for a pooled connection.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace etl
