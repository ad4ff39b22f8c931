// The HTTP client engine against animals-sim on loopback: retries, hedging, POST safety in
// verify mode, keep-alive reuse and timeouts. Each test starts its own simulator with a seed, so
// its chaos sequence is the same on every run.
#include "etl/http/client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "etl/animal/home_payload.hpp"
#include "etl/animal/parse.hpp"
#include "etl/animal/transform.hpp"
#include "etl/core/concurrently.hpp"
#include "etl/core/error.hpp"
#include "etl/test/sim_process.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using test::sim_process;

// Runs `body` on a two-thread pool and waits for it, failing the test instead of hanging.
template <class T>
T run(net::thread_pool& pool, net::awaitable<T> body) {
  auto fut = net::co_spawn(pool, std::move(body), net::use_future);
  if (fut.wait_for(120s) != std::future_status::ready) {
    ADD_FAILURE() << "the coroutine did not finish within 120 s";
    std::abort();
  }
  return fut.get();
}

json::object report(const sim_process& sim) {
  return sim.report().value().as_object();
}

std::int64_t count(const json::object& o, std::string_view key) {
  return o.at(key).to_number<std::int64_t>();
}

// A port nobody listens on: a free one from the kernel, closed again.
std::uint16_t closed_port() {
  net::io_context probe;
  net::ip::tcp::acceptor a(probe, {net::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return port;
}

http_client_options fast_retries() {
  http_client_options o;
  o.retry.base_delay = 1ms;
  o.retry.max_delay = 10ms;
  o.retry.max_attempts = 10;
  return o;
}

TEST(http_client, every_5xx_fault_is_retried_until_success) {
  auto sim = sim_process::start({"--seed", "7", "--pages", "20", "--chaos-percent", "30",
                                 "--pause-min", "0", "--pause-max", "0"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.hedge = false;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  const int n = 200;
  int ok = run(pool, [&]() -> net::awaitable<int> {
    int good = 0;
    for (int id = 0; id < n; ++id) {
      auto r = co_await client.get("/animals/v1/animals/" + std::to_string(id));
      if (r && r->status == 200 && parse_detail(r->body) && parse_detail(r->body)->id == id)
        ++good;
    }
    co_return good;
  }());
  EXPECT_EQ(ok, n);
  const auto rep = report(sim);
  const auto errors = count(rep.at("chaos").as_object(), "errors");
  EXPECT_GT(errors, 10);  // 30% chaos, half of it errors: about 30 of 200+
  const auto& m = client.metrics();
  EXPECT_EQ(static_cast<std::int64_t>(m.retries_total()), errors);
  std::uint64_t by_status = 0;
  for (auto r : {retry_reason::status_500, retry_reason::status_502, retry_reason::status_503,
                 retry_reason::status_504}) {
    EXPECT_GT(m.retries[static_cast<std::size_t>(r)].load(), 0u) << to_string(r);
    by_status += m.retries[static_cast<std::size_t>(r)].load();
  }
  EXPECT_EQ(by_status, m.retries_total());
}

TEST(http_client, a_paused_get_is_answered_by_its_hedge) {
  // 10% chaos with 5 s pauses: about one request in twenty pauses. Sequential requests, so each
  // pause would cost 5 s without the hedge. The hedge budget is lifted: this test is about what
  // a hedge does, and at 5 times the source's chaos rate the default 10% budget runs dry.
  auto sim = sim_process::start({"--seed", "3", "--pages", "20", "--chaos-percent", "10",
                                 "--pause-min", "5", "--pause-max", "5"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.hedge_delay = 100ms;
  opts.hedge_budget = 1.0;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  auto slowest = run(pool, [&]() -> net::awaitable<std::chrono::milliseconds> {
    std::chrono::milliseconds worst{0};
    for (int id = 0; id < 100; ++id) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = co_await client.get("/animals/v1/animals/" + std::to_string(id));
      EXPECT_TRUE(r && r->status == 200) << id;
      worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - t0));
    }
    co_return worst;
  }());
  const auto pauses = count(report(sim).at("chaos").as_object(), "pauses");
  ASSERT_GT(pauses, 0) << "the seed must produce at least one pause";
  EXPECT_GE(client.metrics().hedges_won.load(), 1u);
  EXPECT_LT(slowest, 2'000ms) << "a 5 s pause leaked through the hedge";
}

TEST(http_client, a_single_threaded_client_retries_and_hedges_inside_its_callers_coroutines) {
  // A worker process with one event-loop thread: 64 requests at once run in the callers'
  // coroutines, without strands of their own, while chaos answers 5xx and pauses some for 5 s.
  auto sim = sim_process::start({"--seed", "3", "--pages", "40", "--chaos-percent", "10",
                                 "--pause-min", "5", "--pause-max", "5"})
                 .value();
  net::thread_pool pool(1);
  auto opts = fast_retries();
  opts.single_threaded = true;
  opts.hedge_delay = 100ms;
  opts.hedge_budget = 1.0;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  constexpr std::size_t n = 400;
  std::vector<unsigned> statuses(n);
  std::vector<std::chrono::milliseconds> took(n);
  run(pool, for_each_concurrently(n, 64, [&](std::size_t i) -> net::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = co_await client.get("/animals/v1/animals/" + std::to_string(i));
        statuses[i] = r ? r->status : 0;
        took[i] = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - t0);
      }));
  for (std::size_t i = 0; i < n; ++i)
    EXPECT_EQ(statuses[i], 200u) << i;
  const auto rep = report(sim).at("chaos").as_object();
  ASSERT_GT(count(rep, "pauses"), 0) << "the seed must produce at least one pause";
  ASSERT_GT(count(rep, "errors"), 0) << "the seed must produce at least one 5xx";
  EXPECT_GE(client.metrics().hedges_won.load(), 1u);
  EXPECT_GT(client.metrics().retries_total(), 0u);
  EXPECT_LT(*std::max_element(took.begin(), took.end()), 2'000ms)
      << "a 5 s pause leaked through the hedge";
}

TEST(http_client, posts_are_never_sent_twice_in_verify_mode) {
  // POST pauses of 1 s and 5xx faults; verify mode answers 500 to any id posted twice.
  auto sim = sim_process::start({"--seed", "5", "--pages", "10", "--chaos-percent", "25",
                                 "--pause-min", "1", "--pause-max", "1", "--verify"})
                 .value();
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), sim.base_url(), fast_retries());
  const int animals = 100;
  auto statuses = run(pool, [&]() -> net::awaitable<std::vector<unsigned>> {
    std::vector<home_animal> all;
    for (int id = 0; id < animals; ++id) {
      auto r = co_await client.get("/animals/v1/animals/" + std::to_string(id));
      auto detail = parse_detail(r.value().body);
      all.push_back(to_home(detail.value()));
    }
    std::vector<unsigned> out;
    for (int b = 0; b < animals / 10; ++b) {
      auto body = serialize_home_batch(std::span(all).subspan(b * 10, 10));
      auto r = co_await client.post("/animals/v1/home", body);
      out.push_back(r ? r->status : 0);
    }
    co_return out;
  }());
  for (auto s : statuses)
    EXPECT_EQ(s, 200u);
  const auto rep = report(sim);
  EXPECT_EQ(count(rep, "received"), animals);
  EXPECT_EQ(count(rep, "duplicates"), 0);
  EXPECT_EQ(count(rep, "missing"), 0);
  const auto& mismatched = rep.at("mismatched").as_object();
  for (auto key : {"name", "friends", "born_at"})
    EXPECT_EQ(count(mismatched, key), 0) << key;
}

TEST(http_client, keep_alive_connections_are_reused) {
  auto sim = sim_process::start({"--seed", "1", "--pages", "80", "--chaos-percent", "0"}).value();
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), sim.base_url());
  const int workers = 8, per_worker = 100;
  std::atomic<int> ok{0};
  run(pool, for_each_concurrently(workers, workers, [&](std::size_t w) -> net::awaitable<void> {
        for (int i = 0; i < per_worker; ++i) {
          const auto id = static_cast<int>(w) * per_worker + i;
          auto r = co_await client.get("/animals/v1/animals/" + std::to_string(id));
          if (r && r->status == 200)
            ++ok;
        }
      }));
  EXPECT_EQ(ok.load(), workers * per_worker);
  const auto opened = client.metrics().connections_opened.load();
  EXPECT_LE(opened, 2u * workers);
  EXPECT_EQ(client.metrics().requests.load(), std::uint64_t{workers * per_worker});
  EXPECT_LE(count(report(sim), "connections"), 2 * workers + 1);  // +1: the report's own
}

TEST(http_client, a_post_that_times_out_is_not_resent) {
  // Every request is chaos: half answer 5xx at once, half pause 2 s, longer than the timeout.
  auto sim = sim_process::start({"--seed", "9", "--pages", "10", "--chaos-percent", "100",
                                 "--pause-min", "2", "--pause-max", "2"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.post_timeout = 300ms;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  auto r = run(pool, client.post("/animals/v1/home", "[]"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::timeout)) << r.error().describe();
  const auto rep = report(sim);
  // Only answers that prove the POST was not taken were retried: the pauses were not.
  EXPECT_EQ(count(rep.at("chaos").as_object(), "pauses"), 1);
  EXPECT_EQ(static_cast<std::int64_t>(client.metrics().retries_total()),
            count(rep.at("chaos").as_object(), "errors"));
}

TEST(http_client, a_get_timeout_is_retried_then_reported) {
  auto sim = sim_process::start({"--seed", "9", "--pages", "10", "--chaos-percent", "100",
                                 "--pause-min", "2", "--pause-max", "2"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.hedge = false;
  opts.get_timeout = 200ms;
  opts.retry.max_attempts = 4;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  auto r = run(pool, client.get("/animals/v1/animals/1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::retries_exhausted));
  EXPECT_EQ(r.error().attempts, 4);
  const auto& m = client.metrics();
  EXPECT_EQ(m.retries_total(), 3u);
  EXPECT_EQ(m.retries[static_cast<std::size_t>(retry_reason::timeout)].load() +
                m.retries[static_cast<std::size_t>(retry_reason::status_500)].load() +
                m.retries[static_cast<std::size_t>(retry_reason::status_502)].load() +
                m.retries[static_cast<std::size_t>(retry_reason::status_503)].load() +
                m.retries[static_cast<std::size_t>(retry_reason::status_504)].load(),
            3u);
}

TEST(http_client, a_failure_says_whether_every_attempt_met_the_same_status) {
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.hedge = false;
  opts.retry.max_attempts = 6;
  {
    // An id past the end: the original's 500 on every attempt, its verdict on the record.
    auto sim = sim_process::start({"--seed", "3", "--pages", "1", "--chaos-percent", "0"}).value();
    http_client client(pool.get_executor(), sim.base_url(), opts);
    auto r = run(pool, client.get("/animals/v1/animals/50"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().attempts, 6);
    EXPECT_EQ(r.error().last_status, 500u);
    EXPECT_TRUE(r.error().same_status_throughout) << r.error().describe();
  }
  {
    // The same id under chaos: 502, 503 and 504 among the 500s. However the run ends, it proves
    // nothing about the record.
    auto sim = sim_process::start({"--seed", "4", "--pages", "1", "--chaos-percent", "100",
                                   "--pause-min", "0", "--pause-max", "0"})
                   .value();
    http_client client(pool.get_executor(), sim.base_url(), opts);
    auto r = run(pool, client.get("/animals/v1/animals/50"));
    ASSERT_FALSE(r);
    const auto& m = client.metrics();
    const auto others = m.retries[static_cast<std::size_t>(retry_reason::status_502)].load() +
                        m.retries[static_cast<std::size_t>(retry_reason::status_503)].load() +
                        m.retries[static_cast<std::size_t>(retry_reason::status_504)].load();
    ASSERT_GT(others, 0u) << "the seed should mix other statuses in: " << r.error().describe();
    EXPECT_FALSE(r.error().same_status_throughout) << r.error().describe();
  }
}

TEST(http_client, connect_failures_are_retried_and_reported) {
  const auto port = closed_port();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.retry.max_attempts = 3;
  http_client client(pool.get_executor(), "http://127.0.0.1:" + std::to_string(port), opts);
  auto r = run(pool, client.get("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::retries_exhausted));
  EXPECT_EQ(r.error().attempts, 3);
  EXPECT_EQ(r.error().last_error, net::error::connection_refused) << r.error().describe();
  EXPECT_EQ(client.metrics().retries[static_cast<std::size_t>(retry_reason::connect)].load(), 2u);
}

TEST(http_client, a_body_above_the_limit_fails_cleanly) {
  auto sim = sim_process::start({"--seed", "2", "--pages", "10", "--chaos-percent", "0",
                                 "--fault-big-body", "100"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.max_body_bytes = 64 * 1024;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  auto r = run(pool, client.get("/animals/v1/animals/1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::body_too_large));
  EXPECT_EQ(r.error().attempts, 1);
}

// A home that turns its first `refused` POSTs away: 503 with Retry-After: 2.
sim_process refusing_home(int refused) {
  return sim_process::start({"--seed", "3", "--pages", "10", "--chaos-percent", "0",
                             "--refuse-posts", std::to_string(refused)})
      .value();
}

// fast_retries() that waits 10 ms where refusing_home's Retry-After asks for 2 s.
http_client_options refused_fast() {
  auto o = fast_retries();
  o.retry.retry_after_cap = 10ms;
  return o;
}

// Writes down what the client told it; answers not_taken() with `answer` (released by default)
// and resend() with `resend_error` (none by default).
class recording_guard final : public post_guard {
 public:
  net::awaitable<verdict> not_taken() override {
    calls.push_back("not_taken");
    co_return answer;
  }
  net::awaitable<error_code> resend(bool released) override {
    calls.push_back(released ? "resend" : "confirm");
    co_return resend_error;
  }
  std::vector<std::string> calls;
  verdict answer = verdict::released;
  error_code resend_error;
};

std::vector<std::string> turned_away_then_sent(int times) {
  std::vector<std::string> calls;
  for (int i = 0; i < times; ++i) {
    calls.push_back("not_taken");
    calls.push_back("resend");
  }
  return calls;
}

TEST(http_client, a_post_turned_away_tells_its_guard_before_each_backoff_and_resend) {
  auto sim = refusing_home(2);
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), sim.base_url(), refused_fast());
  recording_guard guard;
  auto r = run(pool, client.post("/animals/v1/home", "[]", &guard));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(guard.calls, turned_away_then_sent(2));
  const auto rep = report(sim);
  EXPECT_EQ(count(rep, "posts_refused"), 2);
  EXPECT_EQ(count(rep, "posts"), 1);
}

TEST(http_client, a_post_that_never_connects_is_reported_not_taken) {
  const auto port = closed_port();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.retry.max_attempts = 3;
  http_client client(pool.get_executor(), "http://127.0.0.1:" + std::to_string(port), opts);
  recording_guard guard;
  auto r = run(pool, client.post("/animals/v1/home", "[]", &guard));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::retries_exhausted));
  EXPECT_TRUE(r.error().not_taken) << r.error().describe();
  // Told after the last attempt too: the caller's record ends as "not sent".
  auto expected = turned_away_then_sent(2);
  expected.push_back("not_taken");
  EXPECT_EQ(guard.calls, expected);
}

TEST(http_client, a_guard_that_refuses_the_resend_stops_the_post) {
  auto sim = refusing_home(5);
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), sim.base_url(), refused_fast());
  recording_guard guard;
  guard.resend_error = make_error_code(errc::cancelled);
  auto r = run(pool, client.post("/animals/v1/home", "[]", &guard));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::cancelled));
  EXPECT_EQ(r.error().attempts, 1);
  EXPECT_TRUE(r.error().not_taken);
  EXPECT_EQ(count(report(sim), "posts_admitted"), 1);
}

TEST(http_client, a_guard_that_says_stop_ends_the_post_without_another_attempt) {
  // The batch was recorded or taken over by another run while this POST was turned away.
  auto sim = refusing_home(5);
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), sim.base_url(), refused_fast());
  recording_guard guard;
  guard.answer = post_guard::verdict::stop;
  auto r = run(pool, client.post("/animals/v1/home", "[]", &guard));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::cancelled));
  EXPECT_EQ(r.error().attempts, 1);
  EXPECT_EQ(guard.calls, std::vector<std::string>{"not_taken"});
  EXPECT_EQ(count(report(sim), "posts_admitted"), 1);
}

TEST(http_client, a_post_retried_without_a_release_asks_its_guard_to_confirm_first) {
  // A guard that cannot change its record (a batch already in doubt) leaves the claim as it
  // is; every retry still asks it first, so a run fenced out meanwhile stops before sending.
  auto sim = refusing_home(2);
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), sim.base_url(), refused_fast());
  recording_guard guard;
  guard.answer = post_guard::verdict::unchanged;
  auto r = run(pool, client.post("/animals/v1/home", "[]", &guard));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(guard.calls,
            (std::vector<std::string>{"not_taken", "confirm", "not_taken", "confirm"}));
}

TEST(http_client, a_post_attempt_never_starts_with_less_than_its_timeout_left) {
  // Refused once (Retry-After capped to 400 ms), then every POST takes 450 ms to answer. The
  // second attempt would start with 400 ms left of the 800 ms deadline: cut short, it would
  // time out after the body went out (may have landed). It must not start at all.
  auto sim = sim_process::start({"--seed", "3", "--pages", "10", "--chaos-percent", "0",
                                 "--refuse-posts", "1", "--post-delay-ms", "450"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.retry.retry_after_cap = 400ms;
  opts.post_timeout = 500ms;
  opts.request_deadline = 800ms;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  auto r = run(pool, client.post("/animals/v1/home", "[]"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::deadline_exceeded)) << r.error().describe();
  EXPECT_TRUE(r.error().not_taken) << r.error().describe();
  EXPECT_EQ(count(report(sim), "posts_admitted"), 1);
}

TEST(http_client, a_post_whose_answer_may_have_been_taken_never_tells_the_guard) {
  // Every POST pauses 2 s, longer than the timeout: it went out whole and may land.
  auto sim = sim_process::start({"--seed", "3", "--pages", "10", "--chaos-percent", "0",
                                 "--post-delay-ms", "2000"})
                 .value();
  net::thread_pool pool(2);
  auto opts = fast_retries();
  opts.post_timeout = 200ms;
  http_client client(pool.get_executor(), sim.base_url(), opts);
  recording_guard guard;
  auto r = run(pool, client.post("/animals/v1/home", "[]", &guard));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, make_error_code(errc::timeout));
  EXPECT_FALSE(r.error().not_taken);
  EXPECT_TRUE(guard.calls.empty());
}

}  // namespace
}  // namespace etl
