#include "etl/queue/redis_connection.hpp"

#include <gtest/gtest.h>

#include "etl/core/error.hpp"
#include "etl/test/redis_server.hpp"
#include "etl/test/redis_test_options.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

TEST(redis_connection, commands_round_trip_binary_safe) {
  test::redis_server server;
  redis_connection conn(redis_test_options(server));
  EXPECT_FALSE(conn.connected());
  const std::string value("a\0b\r\nc", 6);
  auto set = conn.command({"SET", "k", value});
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->type, redis_reply::kind::status);
  EXPECT_TRUE(conn.connected());
  auto get = conn.command({"GET", "k"});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->str, value);
  auto missing = conn.command({"GET", "nope"});
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_nil());
  auto bad = conn.command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(bad);
  EXPECT_TRUE(bad->is_error());
  EXPECT_TRUE(bad->error_is("ERR")) << bad->str;
  EXPECT_EQ(conn.command({}).error(), errc::invalid_argument);
}

TEST(redis_connection, pipeline_returns_answers_in_order) {
  test::redis_server server;
  redis_connection conn(redis_test_options(server));
  auto r = conn.pipeline({{"MULTI"}, {"INCR", "n"}, {"INCRBY", "n", "5"}, {"EXEC"}});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].str, "QUEUED");
  ASSERT_TRUE((*r)[3].is_array());
  EXPECT_EQ((*r)[3].elements[1].integer, 6);
}

TEST(redis_connection, selects_the_url_database) {
  test::redis_server server;
  auto opts = redis_test_options(server);
  opts.db = 3;
  redis_connection db3(opts);
  ASSERT_TRUE(db3.command({"SET", "only-in-3", "x"}));
  redis_connection db0(redis_test_options(server));
  auto r = db0.command({"EXISTS", "only-in-3"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->integer, 0);
  auto again = db3.command({"EXISTS", "only-in-3"});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->integer, 1);
}

TEST(redis_connection, dead_server_gives_bounded_errors_then_recovers) {
  test::redis_server server;
  redis_connection conn(redis_test_options(server));
  ASSERT_TRUE(conn.command({"PING"}));
  server.stop();

  for (int i = 0; i < 5; ++i) {
    const auto start = clock::now();
    auto r = conn.command({"PING"});
    const auto took = clock::now() - start;
    ASSERT_FALSE(r) << "call " << i;
    EXPECT_TRUE(r.error() == redis_errc::connection_lost || r.error() == redis_errc::connect_failed)
        << r.error().message();
    // max_backoff + connect_timeout + command_timeout, with room for a busy machine.
    EXPECT_LT(took, 3s) << "call " << i;
  }

  server.start();
  const auto deadline = clock::now() + 5s;
  bool recovered = false;
  while (!recovered && clock::now() < deadline) {
    auto r = conn.command({"PING"});
    recovered = r && r->str == "PONG";
  }
  EXPECT_TRUE(recovered);
}

TEST(redis_connection, command_timeout_drops_the_connection) {
  test::redis_server server;
  auto opts = redis_test_options(server);
  opts.command_timeout = 200ms;
  redis_connection conn(opts);
  const auto start = clock::now();
  auto r = conn.command({"BLPOP", "never", "5"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), redis_errc::timeout) << r.error().message();
  EXPECT_LT(clock::now() - start, 2s);
  EXPECT_FALSE(conn.connected());
  // A longer per-call timeout lets a blocking command finish.
  auto ok = conn.command({"BLPOP", "never", "0.1"}, 2000ms);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_TRUE(ok->is_nil());
}

}  // namespace
}  // namespace etl
