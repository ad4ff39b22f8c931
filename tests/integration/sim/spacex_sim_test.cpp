// spacex-sim as a process: the documented API over loopback, paging a whole dataset through the
// envelope, determinism by seed, chaos, faults, the clock and the served-data report.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/sim_process.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace bj = boost::json;

#define START_SPACEX(var, ...)                                                        \
  std::string var##_why;                                                              \
  auto var = sim_process::start_binary("spacex-sim", {__VA_ARGS__}, 10s, &var##_why); \
  ASSERT_TRUE(var) << var##_why

bj::value parse(const http_reply& reply) {
  error_code ec;
  auto v = bj::parse(reply.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << reply.body.substr(0, 200);
  return v;
}

result<http_reply> query(const sim_process& sim, std::string_view path, std::string_view body) {
  return http_post(sim.port(), path, body);
}

TEST(SpacexSim, ServesTheLaunchesWithTheApisHeaders) {
  START_SPACEX(sim, "--seed", "7");
  const auto reply = http_get(sim->port(), "/v5/launches");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(reply->header("Cache-Control"), "max-age=20");
  EXPECT_EQ(reply->header("Server"), "spacex-sim");
  EXPECT_FALSE(reply->header("ETag").empty());
  const auto body = parse(*reply);
  const auto& launches = body.as_array();
  ASSERT_EQ(launches.size(), 205U);
  EXPECT_EQ(launches.front().at("name"), "FalconSat");
  const auto crew = http_get(sim->port(), "/v4/crew");
  ASSERT_TRUE(crew);
  EXPECT_EQ(crew->header("Cache-Control"), "max-age=300");
  EXPECT_EQ(parse(*crew).as_array().size(), 30U);
}

TEST(SpacexSim, PagingByNextPageDeliversEveryLaunchOnce) {
  START_SPACEX(sim, "--seed", "11");
  std::vector<std::string> ids;
  std::int64_t page = 1;
  for (int guard = 0; guard < 100; ++guard) {
    const auto reply = query(
        *sim, "/v5/launches/query",
        fmt::format(
            R"({{"query":{{}},"options":{{"sort":{{"date_utc":"desc","_id":"asc"}},"limit":10,"page":{},"select":"name date_utc cores"}}}})",
            page));
    ASSERT_TRUE(reply) << reply.error().message();
    ASSERT_EQ(reply->status, 200) << reply->body;
    const auto envelope = parse(*reply).as_object();
    for (const auto& doc : envelope.at("docs").as_array()) {
      ids.emplace_back(doc.at("id").as_string());
    }
    if (!envelope.at("hasNextPage").as_bool()) {
      EXPECT_EQ(envelope.at("page"), 21);
      break;
    }
    page = envelope.at("nextPage").as_int64();
  }
  EXPECT_EQ(ids.size(), 205U);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 205U);
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("served").at("launches").at("distinct"), 205);
  EXPECT_EQ(report->at("served").at("launches").at("total"), 205);
  EXPECT_EQ(report->at("served").at("cores").at("distinct"), 196) << "entries with a core";
}

TEST(SpacexSim, RefusesBadQueriesAndUnknownIds) {
  START_SPACEX(sim, "--seed", "7");
  auto reply = query(*sim, "/v5/launches/query", R"({"query":{"flight_number":"one"}})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_NE(reply->body.find("Cast to Number failed"), std::string::npos) << reply->body;
  reply = query(*sim, "/v5/launches/query", "{not json");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  reply = http_get(sim->port(), "/v5/launches/000000000000000000000000");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  reply = http_get(sim->port(), "/v4/crew/000000000000000000000000");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("statuses").at("400"), 2);
  EXPECT_EQ(report->at("statuses").at("404"), 2);
}

TEST(SpacexSim, SameSeedSameBytesAndLaunchesFlagScales) {
  START_SPACEX(a, "--seed", "21");
  START_SPACEX(b, "--seed", "21");
  START_SPACEX(big, "--seed", "21", "--launches", "5000");
  const auto from_a = http_get(a->port(), "/v5/launches");
  const auto from_b = http_get(b->port(), "/v5/launches");
  ASSERT_TRUE(from_a && from_b);
  EXPECT_EQ(from_a->body, from_b->body);
  const auto reply = query(*big, "/v5/launches/query", R"({"options":{"limit":1}})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(parse(*reply).at("totalDocs"), 5000);
  const auto config = big->config();
  ASSERT_TRUE(config);
  EXPECT_EQ(config->at("launches"), 5000);
  EXPECT_EQ(config->at("seed"), 21U);
}

// The statuses of `n` queries, one connection each.
std::vector<int> statuses(const sim_process& sim, int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    const auto reply = http_get(sim.port(), "/v4/crew");
    out.push_back(reply ? reply->status : -1);
  }
  return out;
}

TEST(SpacexSim, ChaosIsDeterministicBySeedAndSparesSimEndpoints) {
  START_SPACEX(a, "--seed", "5", "--chaos-percent", "50", "--pause-min", "0", "--pause-max", "0");
  START_SPACEX(b, "--seed", "5", "--chaos-percent", "50", "--pause-min", "0", "--pause-max", "0");
  const auto from_a = statuses(*a, 40);
  EXPECT_EQ(from_a, statuses(*b, 40));
  const auto errors = std::count_if(from_a.begin(), from_a.end(), [](int s) { return s >= 500; });
  EXPECT_GT(errors, 0);
  EXPECT_LT(errors, 40);
  const auto report = a->report();
  ASSERT_TRUE(report) << "/sim/* never meets chaos";
  EXPECT_EQ(report->at("chaos").at("errors").as_int64(), errors);
  EXPECT_EQ(report->at("served").at("crew").at("total").as_int64(), 30 * (40 - errors));
}

TEST(SpacexSim, FaultsBreakAnswersAsAsked) {
  START_SPACEX(reset, "--seed", "3", "--fault-reset", "100");
  EXPECT_FALSE(http_get(reset->port(), "/v4/crew")) << "the connection is reset";

  START_SPACEX(cut, "--seed", "3", "--fault-malformed-json", "100");
  auto reply = http_get(cut->port(), "/v4/crew");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  error_code ec;
  bj::parse(reply->body, ec);
  EXPECT_TRUE(ec) << "a cut body is not JSON";

  START_SPACEX(html, "--seed", "3", "--fault-html-errors", "100");
  reply = http_get(html->port(), "/v5/launches/latest");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 502);
  EXPECT_EQ(reply->header("Content-Type"), "text/html");

  START_SPACEX(missing, "--seed", "3", "--fault-missing-fields", "100");
  reply = http_get(missing->port(), "/v4/crew");
  ASSERT_TRUE(reply);
  std::size_t short_records = 0;
  const auto crew = parse(*reply);
  for (const auto& member : crew.as_array()) {
    short_records += member.as_object().size() < 7 ? 1 : 0;
  }
  EXPECT_EQ(short_records, 1U);
  const auto report = missing->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("faults").at("missing_fields"), 1);
}

TEST(SpacexSim, ClockMovesPastTheCacheWindow) {
  START_SPACEX(sim, "--seed", "7");
  const auto header = [&] {
    const auto reply = query(*sim, "/v5/launches/query", "{}");
    return reply ? reply->header("spacex-api-cache") : std::string("error");
  };
  EXPECT_EQ(header(), "MISS");
  EXPECT_EQ(header(), "HIT");
  const auto moved = http_post(sim->port(), "/sim/clock", R"({"advance_seconds":30})");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 200);
  EXPECT_EQ(parse(*moved).at("offset_ms"), 30000);
  EXPECT_EQ(header(), "MISS");
}

TEST(SpacexSim, BadFlagExitsWithTheReason) {
  std::string why;
  auto sim = sim_process::start_binary("spacex-sim", {"--launches", "many"}, 10s, &why);
  EXPECT_FALSE(sim);
  EXPECT_NE(why.find("exited with status 2"), std::string::npos) << why;
}

}  // namespace
}  // namespace etl::test
