#include <pqxx/except>

#include "db_test_env.hpp"

namespace etl::test {
namespace {

using db_pool_test = db_test;

TEST_F(db_pool_test, runs_a_transaction_and_returns_its_value) {
  auto r = await(db_->run([](pqxx::work& tx) { return tx.exec("SELECT 40 + 2")[0][0].as<int>(); }));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(await(db_->ping()));
}

TEST_F(db_pool_test, sql_errors_become_values_and_the_connection_stays_usable) {
  auto r = await(db_->run([](pqxx::work& tx) { tx.exec("SELEC 1"); }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), db_errc::query_failed);
  auto dup = await(db_->run([](pqxx::work& tx) {
    tx.exec("CREATE TEMP TABLE x (id int PRIMARY KEY)");
    tx.exec("INSERT INTO x VALUES (1), (1)");
  }));
  EXPECT_EQ(dup.error(), db_errc::query_failed);
  EXPECT_TRUE(await(db_->ping()));
}

TEST_F(db_pool_test, statement_timeout_is_a_timeout_error) {
  db_pool::options o;
  o.url = url_;
  o.connections = 1;
  o.statement_timeout = std::chrono::milliseconds(200);
  db_pool short_db(o);
  auto r = await(short_db.run([](pqxx::work& tx) { tx.exec("SELECT pg_sleep(5)"); }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), db_errc::timeout);
}

TEST_F(db_pool_test, conflicts_are_retried_a_bounded_number_of_times) {
  int calls = 0;
  auto once = await(db_->run([&](pqxx::work&) {
    if (++calls == 1)
      throw pqxx::serialization_failure("test: could not serialize access");
    return calls;
  }));
  ASSERT_TRUE(once) << once.error().message();
  EXPECT_EQ(*once, 2);

  calls = 0;
  auto always = await(db_->run([&](pqxx::work&) -> int {
    ++calls;
    throw pqxx::deadlock_detected("test: deadlock detected");
  }));
  ASSERT_FALSE(always);
  EXPECT_EQ(always.error(), db_errc::conflict_retries_exhausted);
  EXPECT_EQ(calls, db_pool::options{}.conflict_attempts);
}

TEST_F(db_pool_test, a_bug_in_the_body_is_rethrown) {
  EXPECT_THROW(await(db_->run([](pqxx::work&) -> int { throw std::logic_error("bug"); })),
               std::logic_error);
  EXPECT_TRUE(await(db_->ping()));
}

TEST_F(db_pool_test, unreachable_server_is_an_error_value) {
  db_pool::options o;
  o.url = "postgresql://etl@127.0.0.1:1/etl";
  o.connections = 1;
  db_pool nowhere(o);
  auto r = await(nowhere.ping());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), db_errc::connection_failed);
}

// Runs `n` transactions at once (each holding its connection for a moment, so that they use
// `n` different connections); returns how many succeeded.
int run_at_once(db_pool& db, int n) {
  net::io_context ioc;
  std::vector<std::future<result<void>>> done;
  for (int i = 0; i < n; ++i)
    done.push_back(net::co_spawn(
        ioc, db.run([](pqxx::work& tx) { tx.exec("SELECT pg_sleep(0.2)"); }), net::use_future));
  ioc.run();
  int ok = 0;
  for (auto& f : done)
    ok += f.get() ? 1 : 0;
  return ok;
}

TEST_F(db_pool_test, reconnects_after_a_postgres_restart) {
  ASSERT_EQ(run_at_once(*db_, 4), 4);  // every connection of the pool is open

  server().stop();
  for (int i = 0; i < 3; ++i) {
    auto r = await(db_->ping());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), db_errc::connection_failed);
  }

  server().start();
  // The pooled connections the outage broke are replaced on first use, without an error.
  EXPECT_EQ(run_at_once(*db_, 4), 4);
  EXPECT_TRUE(await(db_->ping()));
}

}  // namespace
}  // namespace etl::test
