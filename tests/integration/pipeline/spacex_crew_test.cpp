// The shipped spacex-crew pipeline against spacex-sim: its 30 crew members validated and
// upserted into spacex.crew, read back through libpq; a second run updates the same rows.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;

TEST(spacex_crew, every_member_lands_in_spacex_crew_once_and_a_rerun_updates_them) {
  std::string why;
  // --crew-quirks: null names and links, empty launch lists, every status the enum has.
  auto spacex =
      sim_process::start_binary("spacex-sim", {"--seed", "7", "--crew-quirks"}, 10s, &why);
  ASSERT_TRUE(spacex) << why;
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_SPACEX_URL=" + spacex->base_url()}});
  for (int run = 0; run < 2; ++run) {
    const auto id = stack.trigger_json(R"({"pipeline": "spacex-crew"})");
    ASSERT_FALSE(id.empty());
    const auto t = stack.wait_finished(id, 60s);
    ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
    EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 30) << json::serialize(t);
    EXPECT_EQ(num(t.at("counts").as_object(), "rejected"), 0) << json::serialize(t);
    EXPECT_EQ(stack.verify(id), 0) << stack.log_tail();
  }
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.crew")[0].as<int>(), 30);
  // The enum took every status the upstream has; the launch lists are arrays, some empty.
  EXPECT_GE(tx.exec1("SELECT count(DISTINCT status) FROM spacex.crew")[0].as<int>(), 4);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.crew WHERE launches IS NULL")[0].as<int>(), 0);
  EXPECT_GE(
      tx.exec1("SELECT count(*) FROM spacex.crew WHERE cardinality(launches) = 0")[0].as<int>(), 1);
  EXPECT_GE(tx.exec1("SELECT count(*) FROM spacex.crew WHERE name IS NULL")[0].as<int>(), 1);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.crew WHERE id !~ '^[0-9a-f]{24}$'")[0].as<int>(),
            0);
}

}  // namespace
}  // namespace etl::test
