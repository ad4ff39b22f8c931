// The publisher against a real Redis: deltas reach the shared hash, two processes' counts add
// up, an outage delays counts without losing any, and stop() publishes the last ones.
#include "etl/metrics/metrics_publisher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <functional>
#include <thread>

#include "etl/test/redis_server.hpp"
#include "etl/test/redis_test_options.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;

metrics_publisher_options every(std::chrono::milliseconds interval) {
  metrics_publisher_options o;
  o.key = "test:metrics";
  o.interval = interval;
  return o;
}

// The hash field as an integer; -1 when absent or unreadable.
std::int64_t read_field(redis_connection& conn, const std::string& field) {
  auto r = conn.command({"HGET", "test:metrics", field});
  if (!r || !r->is_text())
    return -1;
  std::int64_t v = -1;
  std::from_chars(r->str.data(), r->str.data() + r->str.size(), v);
  return v;
}

// Polls the field until it equals `want` or `timeout` passes; returns the last value read.
std::int64_t wait_for_field(redis_connection& conn, const std::string& field, std::int64_t want,
                            std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto v = read_field(conn, field);
  while (v != want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling, bounded by the deadline
    v = read_field(conn, field);
  }
  return v;
}

TEST(metrics_publisher, deltas_of_two_processes_add_up_in_the_hash) {
  test::redis_server server;
  redis_connection conn(redis_test_options(server));
  std::atomic<std::int64_t> a{0}, b{0};
  metrics_publisher pa(
      redis_test_options(server),
      [&] {
        return metric_fields{{"x", a.load()}, {"only_a", 1}};
      },
      every(20ms));
  metrics_publisher pb(
      redis_test_options(server),
      [&] {
        return metric_fields{{"x", b.load()}};
      },
      every(20ms));
  a = 5;
  b = 7;
  EXPECT_EQ(wait_for_field(conn, "x", 12), 12);
  a = 6;
  EXPECT_EQ(wait_for_field(conn, "x", 13), 13);
  // Unchanged fields are not sent again: published once, still 1.
  EXPECT_EQ(read_field(conn, "only_a"), 1);
}

TEST(metrics_publisher, an_outage_delays_counts_and_loses_none) {
  test::redis_server_options ro;
  ro.appendonly = true;  // the hash survives the restart, as with the production setup
  test::redis_server server(ro);
  redis_connection conn(redis_test_options(server));
  std::atomic<std::int64_t> v{3};
  metrics_publisher p(
      redis_test_options(server),
      [&] {
        return metric_fields{{"x", v.load()}};
      },
      every(1h));  // published by hand below
  EXPECT_FALSE(p.publish_now());
  EXPECT_EQ(read_field(conn, "x"), 3);

  server.stop();
  v = 10;
  EXPECT_TRUE(p.publish_now());  // Redis is down: the delta (7) is kept
  v = 11;
  EXPECT_TRUE(p.publish_now());
  server.start();
  // The first call after the restart may still be backing off; bounded retries.
  error_code ec = p.publish_now();
  for (int i = 0; ec && i < 50; ++i) {
    std::this_thread::sleep_for(20ms);
    ec = p.publish_now();
  }
  EXPECT_FALSE(ec) << ec.message();
  // The reader's own connection reconnects after the restart too.
  EXPECT_EQ(wait_for_field(conn, "x", 11), 11);
}

TEST(metrics_publisher, stop_publishes_the_last_deltas) {
  test::redis_server server;
  redis_connection conn(redis_test_options(server));
  std::atomic<std::int64_t> v{0};
  metrics_publisher p(
      redis_test_options(server),
      [&] {
        return metric_fields{{"x", v.load()}};
      },
      every(1h));
  v = 42;
  p.stop();
  EXPECT_EQ(read_field(conn, "x"), 42);
  p.stop();  // idempotent
}

TEST(metrics_publisher, rejects_bad_options) {
  test::redis_server server;
  auto read = [] { return metric_fields{}; };
  EXPECT_THROW(metrics_publisher(redis_test_options(server), read, every(0ms)),
               std::invalid_argument);
  auto no_key = every(1s);
  no_key.key.clear();
  EXPECT_THROW(metrics_publisher(redis_test_options(server), read, no_key), std::invalid_argument);
  EXPECT_THROW(metrics_publisher(redis_test_options(server), {}, every(1s)), std::invalid_argument);
}

}  // namespace
}  // namespace etl
