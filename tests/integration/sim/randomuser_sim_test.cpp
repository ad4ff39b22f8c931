// randomuser-sim as a process: seeded users over loopback, the quota per client with its 429 and
// reset by the clock, the outage body, chaos by seed and the served-users report.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace bj = boost::json;

#define START_RANDOMUSER(var, ...)                                                        \
  std::string var##_why;                                                                  \
  auto var = sim_process::start_binary("randomuser-sim", {__VA_ARGS__}, 10s, &var##_why); \
  ASSERT_TRUE(var) << var##_why

result<http_reply> get_as(const sim_process& sim, std::string_view target,
                          const std::string& client) {
  return http_request(sim.port(), "GET", target, {}, default_http_timeout,
                      {{"X-Forwarded-For", client}});
}

TEST(RandomuserSim, SeededUsersAreTheSameBytesInEveryRun) {
  START_RANDOMUSER(a, "--seed", "3");
  START_RANDOMUSER(b, "--seed", "4");
  const auto from_a = http_get(a->port(), "/api/?results=5000&seed=pipeline&nat=ca,ir,no");
  const auto from_b = http_get(b->port(), "/api/?results=5000&seed=pipeline&nat=ca,ir,no");
  ASSERT_TRUE(from_a && from_b);
  EXPECT_EQ(from_a->status, 200);
  EXPECT_EQ(from_a->header("Cache-Control"), "no-cache");
  EXPECT_EQ(from_a->header("Content-Type"), "application/json");
  EXPECT_EQ(from_a->body, from_b->body) << "the seed parameter alone decides the users";
  const auto body = bj::parse(from_a->body);
  const auto& users = body.at("results").as_array();
  ASSERT_EQ(users.size(), 5000U);
  std::set<std::string> uuids;
  for (const auto& u : users) {
    uuids.emplace(u.at("login").at("uuid").as_string());
  }
  EXPECT_EQ(uuids.size(), 5000U);
  const auto report = a->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("served").at("users").at("distinct"), 5000);
}

TEST(RandomuserSim, QuotaAnswers429UntilTheClockTurnsTheWindow) {
  START_RANDOMUSER(sim, "--seed", "3", "--quota", "100");
  // Move the clock to just past the start of a 300 s window: the requests below share it.
  const auto clock = http_get(sim->port(), "/sim/clock");
  ASSERT_TRUE(clock);
  const auto into = bj::parse(clock->body).at("now_ms").as_int64() % 300'000;
  const auto moved_in =
      http_post(sim->port(), "/sim/clock",
                fmt::format(R"({{"advance_seconds":{}}})", (300'000 - into) / 1000 + 1));
  ASSERT_TRUE(moved_in);
  for (int i = 0; i < 3; ++i) {
    const auto reply = get_as(*sim, "/api/?results=40", "192.0.2.1");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << i;
  }
  auto refused = get_as(*sim, "/api/?results=1", "192.0.2.1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_NE(refused->body.find("You've requested 120 users"), std::string::npos) << refused->body;
  const auto other = get_as(*sim, "/api/?results=1", "192.0.2.2");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200) << "another client has its own count";
  const auto moved = http_post(sim->port(), "/sim/clock", R"({"advance_seconds":300})");
  ASSERT_TRUE(moved);
  ASSERT_EQ(moved->status, 200);
  const auto again = get_as(*sim, "/api/?results=1", "192.0.2.1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(RandomuserSim, OutageAndUnknownVersion) {
  START_RANDOMUSER(sim, "--seed", "3", "--outage-percent", "100");
  auto reply = http_get(sim->port(), "/api/?results=10");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(std::string(bj::parse(reply->body).at("error").as_string()).substr(0, 27),
            "Uh oh, something has gone w");
  reply = http_get(sim->port(), "/api/0.9/");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
}

TEST(RandomuserSim, ChaosFollowsTheSeed) {
  START_RANDOMUSER(a, "--seed", "9", "--chaos-percent", "40", "--pause-min", "0", "--pause-max",
                   "0");
  START_RANDOMUSER(b, "--seed", "9", "--chaos-percent", "40", "--pause-min", "0", "--pause-max",
                   "0");
  std::vector<int> from_a;
  std::vector<int> from_b;
  for (int i = 0; i < 30; ++i) {
    const auto x = http_get(a->port(), "/api/?seed=s");
    const auto y = http_get(b->port(), "/api/?seed=s");
    from_a.push_back(x ? x->status : -1);
    from_b.push_back(y ? y->status : -1);
  }
  EXPECT_EQ(from_a, from_b);
  EXPECT_GT(std::count(from_a.begin(), from_a.end(), 200), 0);
  EXPECT_LT(std::count(from_a.begin(), from_a.end(), 200), 30);
}

}  // namespace
}  // namespace etl::test
