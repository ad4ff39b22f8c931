// etl-server's protection against slow, idle, too many and badly timed clients, and against slow
// or absent stores, against a running server with real Redis and Postgres: slowloris and idle
// connections are closed within their timeouts while others are served, the connection cap,
// a graceful stop on SIGTERM, /healthz staying fast while Postgres is slow or stopped, and
// /readyz naming the store that fails or hangs.
#include <signal.h>

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <thread>

#include <boost/asio/error.hpp>
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/core/error.hpp"
#include "etl/test/http.hpp"
#include "etl/test/raw_connection.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::string_view healthz_request = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

std::unique_ptr<service_stack> server_only(std::vector<std::string> env) {
  service_stack_options o;
  o.start_worker = false;
  o.extra_env = std::move(env);
  return std::make_unique<service_stack>(std::move(o));
}

std::chrono::milliseconds since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t);
}

// Sessions of the stack's database waiting for a lock (the test holds one on `tasks`).
int lock_waiters(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  return tx
      .exec1(
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          "AND datname = current_database()")[0]
      .as<int>();
}

// Polls until `n` sessions wait for a lock, at most `within`.
bool wait_lock_waiters(const std::string& url, int n, std::chrono::milliseconds within) {
  const auto deadline = steady::now() + within;
  while (steady::now() < deadline) {
    if (lock_waiters(url) >= n)
      return true;
    std::this_thread::sleep_for(20ms);  // polling interval, bounded by the deadline
  }
  return false;
}

// An open transaction holding ACCESS EXCLUSIVE on `tasks`: every read of a task waits for it,
// i.e. a Postgres that is slow for the requests that need it.
struct tasks_locked {
  explicit tasks_locked(const std::string& url) : conn(url), tx(conn) {
    tx.exec("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
  }
  void release() { tx.abort(); }
  pqxx::connection conn;
  pqxx::work tx;
};

// Starts the shared Postgres again however the test leaves.
struct postgres_restarter {
  ~postgres_restarter() { shared_postgres().start(); }
};

// Short timeouts so that the slow-client tests take seconds.
class server_limits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = server_only({"ETL_HTTP_READ_TIMEOUT=1s", "ETL_HTTP_IDLE_TIMEOUT=4s"});
  }
  static void TearDownTestSuite() { stack_.reset(); }
  static std::uint16_t port() { return stack_->port(); }
  static std::unique_ptr<service_stack> stack_;
};
std::unique_ptr<service_stack> server_limits::stack_;

TEST_F(server_limits, a_client_trickling_its_headers_is_closed_within_the_read_timeout) {
  auto slow = raw_connection::open(port());
  ASSERT_TRUE(slow);
  const auto start = steady::now();
  // One byte every 100 ms, forever: each byte alone would reset a per-read timer.
  auto trickle = std::async(std::launch::async, [&] {
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(200, 's');
    for (char c : req) {
      if (slow->send(std::string_view(&c, 1)))
        return since(start);               // the server closed the connection
      std::this_thread::sleep_for(100ms);  // the trickle itself, not a synchronization
    }
    return std::chrono::milliseconds::max();
  });
  // Meanwhile another client is served at once, several times.
  for (int i = 0; i < 5; ++i) {
    const auto t = steady::now();
    auto r = http_get(port(), "/healthz", 2s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(since(t), 500ms);
  }
  const auto closed_after = trickle.get();
  EXPECT_GE(closed_after, 900ms) << "closed before the read timeout";
  EXPECT_LT(closed_after, 3000ms) << "not closed within the 1 s read timeout";
}

TEST_F(server_limits, a_kept_alive_connection_trickling_its_next_request_is_closed_too) {
  auto c = raw_connection::open(port());
  ASSERT_TRUE(c);
  ASSERT_FALSE(c->send(healthz_request));
  auto first = c->read_reply(2s);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->status, 200);
  // The next request's first byte comes at once, then a trickle: the read timeout counts from
  // that byte, not from the idle wait (4 s) plus a fresh second.
  const auto start = steady::now();
  ASSERT_FALSE(c->send("G"));
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {
    std::this_thread::sleep_for(100ms);  // the trickle itself
    closed = static_cast<bool>(c->send("E"));
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(since(start), 3000ms);
}

TEST_F(server_limits, an_idle_connection_is_closed_after_the_idle_timeout) {
  auto c = raw_connection::open(port());
  ASSERT_TRUE(c);
  ASSERT_FALSE(c->send(healthz_request));
  ASSERT_TRUE(c->read_reply(2s));
  const auto start = steady::now();
  EXPECT_TRUE(c->wait_closed(8s));
  EXPECT_GE(since(start), 3800ms);
  EXPECT_LT(since(start), 6000ms);
  // A connection that never sends anything gets the read timeout (1 s).
  auto silent = raw_connection::open(port());
  ASSERT_TRUE(silent);
  const auto silent_start = steady::now();
  EXPECT_TRUE(silent->wait_closed(5s));
  EXPECT_LT(since(silent_start), 3000ms);
}

// A cap of 4 connections, with the default timeouts: the open ones must not be closed as idle
// while the test runs, however loaded the machine is.
TEST(server_cap, connections_above_the_cap_get_503_and_room_is_made_again) {
  auto stack = server_only({"ETL_HTTP_MAX_CONNECTIONS=4"});
  const auto port = [&] { return stack->port(); };
  // Four connections, each answered once: the server counts them. A connection of the stack's
  // start-up may still be closing on the server's side for a moment, so one of them may be
  // refused at first: retry it (bounded).
  std::vector<raw_connection> open;
  const auto fill_deadline = steady::now() + 10s;
  while (open.size() < 4 && steady::now() < fill_deadline) {
    auto c = raw_connection::open(port());
    ASSERT_TRUE(c);
    ASSERT_FALSE(c->send(healthz_request));
    auto r = c->read_reply(2s);
    ASSERT_TRUE(r) << open.size() << ": " << r.error().message();
    if (r->status == 200)
      open.push_back(std::move(*c));
    else
      EXPECT_EQ(r->status, 503) << r->body;
  }
  ASSERT_EQ(open.size(), 4u);
  // The fifth is told at once that the server is full, and closed.
  auto fifth = raw_connection::open(port());
  ASSERT_TRUE(fifth);
  (void)fifth->send(healthz_request);
  auto refused = fifth->read_reply(5s);
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->status, 503) << refused->head;
  EXPECT_NE(refused->head.find("Retry-After: 1"), std::string::npos) << refused->head;
  const auto body = json::parse(refused->body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "too_many_connections");
  EXPECT_NE(std::string(body.at("detail").as_string()).find("4 connections"), std::string::npos);
  EXPECT_TRUE(fifth->wait_closed(5s));
  // The four are still served.
  for (auto& c : open) {
    ASSERT_FALSE(c.send(healthz_request));
    auto r = c.read_reply(2s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 200);
  }

  // One closes; a new connection is served again (the server notices the close soon).
  open.pop_back();
  const auto deadline = steady::now() + 5s;
  bool served = false;
  while (!served && steady::now() < deadline) {
    auto r = http_get(port(), "/healthz", 1s);
    served = r && r->status == 200;
  }
  EXPECT_TRUE(served);
}

TEST(server_shutdown, sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0) {
  auto stack = server_only({});
  const auto id = stack->trigger(false);
  ASSERT_FALSE(id.empty());
  std::optional<tasks_locked> lock;
  lock.emplace(stack->database_url());
  // A status read that waits for the lock: in flight when SIGTERM arrives.
  auto in_flight = std::async(
      std::launch::async, [&] { return http_get(stack->port(), "/extractor/tasks/" + id, 20s); });
  ASSERT_TRUE(wait_lock_waiters(stack->database_url(), 1, 10s));

  ASSERT_TRUE(stack->server().signal(SIGTERM));
  // New connections are refused once the listener is closed (soon after the signal).
  const auto deadline = steady::now() + 5s;
  error_code refused;
  while (refused != net::error::connection_refused && steady::now() < deadline) {
    auto r = http_get(stack->port(), "/healthz", 1s);
    refused = r ? error_code{} : r.error();
  }
  EXPECT_EQ(refused, net::error::connection_refused) << refused.message();
  EXPECT_FALSE(stack->server().wait(0ms)) << "exited with a request in flight";

  lock->release();
  auto r = in_flight.get();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body).at("task_id").as_string(), id);
  EXPECT_EQ(stack->server().wait(10s), std::optional<int>(0));
}

TEST(server_stores, healthz_stays_fast_while_postgres_is_slow_then_stopped) {
  auto stack = server_only({"ETL_READY_TIMEOUT=1s"});
  const auto id = stack->trigger(false);
  ASSERT_FALSE(id.empty());
  // A cancelled task that never started is settled: read once, it is kept in memory.
  const auto settled = stack->trigger(false);
  auto cancelled = http_post(stack->port(), "/extractor/tasks/" + settled + "/cancel", "");
  ASSERT_TRUE(cancelled);
  ASSERT_EQ(cancelled->status, 200) << cancelled->body;
  {
    tasks_locked lock(stack->database_url());
    // More waiting reads than the server has event-loop threads (2) and pool connections (4).
    std::vector<std::future<result<http_reply>>> stuck;
    for (int i = 0; i < 6; ++i) {
      stuck.push_back(std::async(std::launch::async, [&] {
        return http_get(stack->port(), "/extractor/tasks/" + id, 30s);
      }));
    }
    ASSERT_TRUE(wait_lock_waiters(stack->database_url(), 4, 10s));
    for (int i = 0; i < 20; ++i) {
      const auto t = steady::now();
      auto r = http_get(stack->port(), "/healthz", 2s);
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_EQ(r->status, 200);
      EXPECT_LT(since(t), 250ms) << "/healthz waited on Postgres";
    }
    // Every pool connection is busy: the readiness check cannot run in time.
    const auto t = steady::now();
    auto ready = http_get(stack->port(), "/readyz", 5s);
    ASSERT_TRUE(ready) << ready.error().message();
    EXPECT_EQ(ready->status, 503) << ready->body;
    EXPECT_LT(since(t), 2500ms);
    const auto o = json::parse(ready->body).as_object();
    EXPECT_EQ(o.at("checks").at("postgres").as_string(), "timeout") << ready->body;
    EXPECT_EQ(o.at("checks").at("redis").as_string(), "ok") << ready->body;
    EXPECT_EQ(o.at("error").as_string(), "not_ready");
    EXPECT_NE(std::string(o.at("detail").as_string()).find("postgres"), std::string::npos);

    lock.release();
    for (auto& f : stuck) {
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_EQ(r->status, 200) << r->body;
    }
  }

  postgres_restarter restart_at_exit;
  shared_postgres().stop();
  for (int i = 0; i < 20; ++i) {
    const auto t = steady::now();
    auto r = http_get(stack->port(), "/healthz", 2s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(since(t), 250ms) << "/healthz waited on Postgres";
  }
  auto task = http_get(stack->port(), "/extractor/tasks/" + id, 15s);
  ASSERT_TRUE(task) << task.error().message();
  EXPECT_EQ(task->status, 503) << task->body;
  EXPECT_EQ(json::parse(task->body).at("error").as_string(), "database_unavailable");
  // The settled task is still served, from memory, the same as before.
  auto kept = http_get(stack->port(), "/extractor/tasks/" + settled, 5s);
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_EQ(kept->status, 200) << kept->body;
  EXPECT_EQ(json::parse(kept->body), json::parse(cancelled->body));
  auto ready = http_get(stack->port(), "/readyz", 5s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << ready->body;
  EXPECT_NE(json::parse(ready->body).at("checks").at("postgres").as_string(), "ok");

  shared_postgres().start();
  const auto deadline = steady::now() + 15s;
  int status = 0;
  while (status != 200 && steady::now() < deadline) {
    auto r = http_get(stack->port(), "/readyz", 5s);
    status = r ? r->status : 0;
  }
  EXPECT_EQ(status, 200) << "not ready again after Postgres came back";
}

TEST(server_stores, readyz_names_redis_when_it_is_down_or_hangs) {
  auto stack = server_only({"ETL_READY_TIMEOUT=1s"});
  auto& redis = stack->redis();
  redis.stop();
  auto down = http_get(stack->port(), "/readyz", 5s);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  auto o = json::parse(down->body).as_object();
  EXPECT_EQ(o.at("checks").at("redis").as_string(), "failed") << down->body;
  EXPECT_EQ(o.at("checks").at("postgres").as_string(), "ok") << down->body;
  EXPECT_NE(std::string(o.at("detail").as_string()).find("redis"), std::string::npos);
  // A trigger cannot queue its task: a JSON 503, not a hang.
  const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "retry-me"}};
  auto trigger = http_request(stack->port(), "POST", "/extractor/trigger-task", "", 15s, key);
  ASSERT_TRUE(trigger);
  EXPECT_EQ(trigger->status, 503) << trigger->body;
  EXPECT_EQ(json::parse(trigger->body).at("error").as_string(), "queue_unavailable");

  redis.start();
  // A stopped (SIGSTOP) Redis accepts connections and never answers: a timeout, in time.
  auto deadline = steady::now() + 10s;
  int status = 0;
  while (status != 200 && steady::now() < deadline) {
    auto r = http_get(stack->port(), "/readyz", 5s);
    status = r ? r->status : 0;
  }
  ASSERT_EQ(status, 200) << "not ready after Redis came back";
  // The client was told to try again: the same key now starts a task, not the failed one.
  auto retried = http_request(stack->port(), "POST", "/extractor/trigger-task", "", 15s, key);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, 202) << retried->body;
  const std::string retried_id(json::parse(retried->body).at("task_id").as_string());
  EXPECT_EQ(stack->task(retried_id).at("status").as_string(), "queued");
  ASSERT_EQ(::kill(redis.pid(), SIGSTOP), 0);
  const auto t = steady::now();
  auto hung = http_get(stack->port(), "/readyz", 5s);
  const auto took = since(t);
  ::kill(redis.pid(), SIGCONT);
  ASSERT_TRUE(hung) << hung.error().message();
  EXPECT_EQ(hung->status, 503) << hung->body;
  EXPECT_EQ(json::parse(hung->body).at("checks").at("redis").as_string(), "timeout") << hung->body;
  EXPECT_LT(took, 2500ms);
  auto h = http_get(stack->port(), "/healthz", 1s);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

}  // namespace
}  // namespace etl::test
