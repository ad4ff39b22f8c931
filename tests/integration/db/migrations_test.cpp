#include <thread>
#include <vector>

#include <fmt/format.h>
#include <pqxx/nontransaction>

#include "db_test_env.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

class migrations_test : public db_test {
 protected:
  void SetUp() override { open_database(false); }
  pqxx::connection connect() { return pqxx::connection(url_); }
  void exec(const std::string& sql) {
    auto c = connect();
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
};

TEST(migration_files, fnv1a64_matches_reference_values) {
  EXPECT_EQ(fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a64_hex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(fnv1a64_hex("foobar"), "85944171f73967e8");
}

TEST(migration_files, names_are_validated) {
  EXPECT_EQ(parse_migration_filename("0001_initial.sql"),
            (std::pair{1, std::string("0001_initial")}));
  EXPECT_EQ(parse_migration_filename("0012_add_index.sql")->first, 12);
  EXPECT_FALSE(parse_migration_filename("1_initial.sql"));
  EXPECT_FALSE(parse_migration_filename("0001_Initial.sql"));
  EXPECT_FALSE(parse_migration_filename("0001_initial.txt"));
  EXPECT_FALSE(parse_migration_filename("0000_zero.sql"));
  EXPECT_FALSE(parse_migration_filename("0001_.sql"));

  auto dup = make_migrations({{"0001_a.sql", "SELECT 1;"}, {"0001_b.sql", "SELECT 2;"}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, db_errc::invalid_migration);
  EXPECT_NE(dup.error().detail.find("0001"), std::string::npos) << dup.error().detail;

  auto bad = make_migrations({{"initial.sql", "SELECT 1;"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find("initial.sql"), std::string::npos);

  auto sorted = make_migrations({{"0002_b.sql", "SELECT 2;"}, {"0001_a.sql", "SELECT 1;"}});
  ASSERT_TRUE(sorted);
  EXPECT_EQ(sorted->front().version, 1);
  EXPECT_EQ(sorted->back().version, 2);
}

TEST(migration_files, embedded_set_matches_the_source_directory) {
  auto loaded = load_migrations(std::string(source_dir) + "/migrations");
  ASSERT_TRUE(loaded) << loaded.error().detail;
  const auto embedded = embedded_migrations();
  ASSERT_EQ(loaded->size(), embedded.size());
  for (std::size_t i = 0; i < embedded.size(); ++i) {
    EXPECT_EQ((*loaded)[i].name, embedded[i].name);
    EXPECT_EQ((*loaded)[i].checksum, embedded[i].checksum);
  }
  EXPECT_EQ(required_schema_version(), embedded.back().version);
  EXPECT_FALSE(load_migrations("/nonexistent/migrations"));
}

TEST_F(migrations_test, apply_once_then_no_op) {
  auto c = connect();
  auto before = check_schema(c);
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().code, db_errc::schema_missing);

  auto first = apply_migrations(c);
  ASSERT_TRUE(first) << first.error().detail;
  std::vector<int> every_version;
  for (const auto& m : embedded_migrations())
    every_version.push_back(m.version);
  EXPECT_EQ(first->applied, every_version);
  EXPECT_EQ(first->schema_version, required_schema_version());

  auto second = apply_migrations(*db_);
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->schema_version, required_schema_version());

  auto checked = check_schema(*db_);
  ASSERT_TRUE(checked) << checked.error().detail;
  EXPECT_EQ(*checked, required_schema_version());

  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<std::size_t>(),
            embedded_migrations().size());
}

TEST_F(migrations_test, concurrent_runners_serialize) {
  constexpr int runners = 4;
  std::vector<migration_result<migration_report>> results(runners, migration_error{{}, "not run"});
  std::vector<std::thread> threads;
  for (int i = 0; i < runners; ++i)
    threads.emplace_back([&, i] {
      pqxx::connection c(url_);
      results[i] = apply_migrations(c);
    });
  for (auto& t : threads)
    t.join();
  int applied = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().detail;
    applied += static_cast<int>(r->applied.size());
    EXPECT_EQ(r->schema_version, required_schema_version());
  }
  EXPECT_EQ(applied, static_cast<int>(embedded_migrations().size())) << "each applied once";
}

TEST_F(migrations_test, unknown_recorded_version_is_refused) {
  auto c = connect();
  ASSERT_TRUE(apply_migrations(c));
  exec("INSERT INTO schema_migrations (version, name, checksum) VALUES (99, '0099_future', 'x')");
  auto again = apply_migrations(c);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, db_errc::unknown_migration);
  EXPECT_NE(again.error().detail.find("0099"), std::string::npos) << again.error().detail;
  // A binary that knows fewer migrations still runs against a newer schema.
  EXPECT_TRUE(check_schema(c));
}

TEST_F(migrations_test, changed_checksum_is_refused) {
  auto c = connect();
  ASSERT_TRUE(apply_migrations(c));
  exec("UPDATE schema_migrations SET checksum = '0000000000000000' WHERE version = 1");
  auto again = apply_migrations(c);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, db_errc::checksum_mismatch);
  EXPECT_NE(again.error().detail.find("0001"), std::string::npos) << again.error().detail;
  auto checked = check_schema(c);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, db_errc::checksum_mismatch);
}

TEST_F(migrations_test, older_schema_is_refused_and_a_failing_migration_is_named) {
  auto c = connect();
  ASSERT_TRUE(apply_migrations(c));
  std::vector<migration> newer(embedded_migrations().begin(), embedded_migrations().end());
  const int next = required_schema_version() + 1;
  const std::string broken = fmt::format("{:04}_broken", next);
  newer.push_back({next, broken, "SELEC 1", fnv1a64_hex("SELEC 1")});

  auto checked = check_schema(c, newer);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, db_errc::schema_too_old);
  EXPECT_NE(checked.error().detail.find(broken), std::string::npos);

  auto applied = apply_migrations(c, newer);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, db_errc::query_failed);
  EXPECT_NE(applied.error().detail.find(broken), std::string::npos) << applied.error().detail;
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT max(version) FROM schema_migrations")[0][0].as<int>(),
            required_schema_version());
}

}  // namespace
}  // namespace etl::test
