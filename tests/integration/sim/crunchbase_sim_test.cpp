// crunchbase-sim as a process: a full keyset-paged extraction as the original ran it, the
// clock moving so that a second run sees only the changed organizations, keys, the 200
// calls/min limit (and a window of another length), the autocomplete GET and the served report,
// over loopback.
#include <gtest/gtest.h>

#include <map>
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

#define START_CRUNCHBASE(var, ...)                                                        \
  std::string var##_why;                                                                  \
  auto var = sim_process::start_binary("crunchbase-sim", {__VA_ARGS__}, 10s, &var##_why); \
  ASSERT_TRUE(var) << var##_why

constexpr std::string_view path = "/api/v4/searches/organizations";

result<http_reply> search(const sim_process& sim, const std::string& body,
                          const std::string& key = "secret") {
  return http_request(sim.port(), "POST", path, body, default_http_timeout,
                      {{"X-cb-user-key", key}});
}

// The original's body (field_ids, order rank_org asc, updated_at gte a day, limit 50), paged
// by after_id until a short page: uuid -> updated_at of every entity received.
std::map<std::string, std::string> extract(const sim_process& sim, std::string_view since,
                                           int* pages) {
  std::map<std::string, std::string> out;
  std::string after;
  for (*pages = 0; *pages < 1000; ++*pages) {
    std::string body = fmt::format(
        R"({{"field_ids":["uuid","linkedin","location_identifiers","website_url","created_at","updated_at","permalink"],"order":[{{"field_id":"rank_org","sort":"asc"}}],"query":[{{"type":"predicate","field_id":"updated_at","operator_id":"gte","values":["{}"]}}],"limit":50{}}})",
        since, after.empty() ? "" : fmt::format(R"(,"after_id":"{}")", after));
    const auto reply = search(sim, body);
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : reply.error().message());
    if (!reply || reply->status != 200) {
      break;
    }
    const auto page = bj::parse(reply->body);
    const auto& entities = page.at("entities").as_array();
    EXPECT_EQ(reply->header("X-Cb-Engine-Page-Count"), std::to_string(entities.size()));
    for (const auto& e : entities) {
      const auto& p = e.at("properties").as_object();
      EXPECT_TRUE(p.contains("identifier"));
      EXPECT_TRUE(out.emplace(std::string(e.at("uuid").as_string()),
                              std::string(p.at("updated_at").as_string()))
                      .second)
          << "an organization twice";
    }
    if (entities.size() < 50) {
      ++*pages;
      break;
    }
    after = std::string(entities.back().at("uuid").as_string());
  }
  return out;
}

TEST(CrunchbaseSim, FullRunThenOnlyTheChangedOrganizations) {
  START_CRUNCHBASE(sim, "--seed", "12", "--key", "secret", "--orgs", "2000");
  int pages = 0;
  const auto first = extract(*sim, "0001-01-01", &pages);
  EXPECT_EQ(first.size(), 2000U);
  EXPECT_EQ(pages, 40 + 1) << "40 full pages and the empty one that ends the run";

  const auto moved = http_post(sim->port(), "/sim/clock", R"({"advance_seconds":7200})");
  ASSERT_TRUE(moved);
  ASSERT_EQ(moved->status, 200);
  ASSERT_EQ(sim->reset(), error_code{});
  const auto second = extract(*sim, "2024-01-01", &pages);
  ASSERT_FALSE(second.empty());
  EXPECT_LT(second.size(), 200U);
  for (const auto& [uuid, updated_at] : second) {
    ASSERT_TRUE(first.contains(uuid));
    EXPECT_GT(updated_at, first.at(uuid)) << "only changed organizations are new";
  }
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("served").at("versions").at("distinct").as_int64(),
            static_cast<std::int64_t>(second.size()));
  EXPECT_EQ(report->at("served").at("organizations").at("total").as_int64(),
            static_cast<std::int64_t>(second.size()));
}

TEST(CrunchbaseSim, KeyErrorsAndRefusedOperators) {
  START_CRUNCHBASE(sim, "--seed", "12", "--key", "secret", "--orgs", "50");
  auto reply = http_post(sim->port(), path, "{}");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  EXPECT_EQ(bj::parse(reply->body).at(0).at("code"), "LA401");
  reply = search(*sim, "{}", "guess");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  reply = http_post(sim->port(), "/api/v4/searches/organizations?user_key=secret", "{}");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("X-Cb-Engine-Total-Count"), "50");
  reply = search(
      *sim,
      R"({"query":[{"type":"predicate","field_id":"updated_at","operator_id":"gt","values":["2023-06-01"]}]})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(bj::parse(reply->body).at(0).at("code"), "MD100");
}

TEST(CrunchbaseSim, RateLimitIsCountedAtTheSimulator) {
  START_CRUNCHBASE(sim, "--seed", "12", "--key", "secret", "--orgs", "5", "--rate-limit", "20");
  // Start just past a minute boundary of the clock so that all calls share one window.
  const auto clock = http_get(sim->port(), "/sim/clock");
  ASSERT_TRUE(clock);
  const auto into = bj::parse(clock->body).at("now_ms").as_int64() % 60'000;
  ASSERT_TRUE(http_post(sim->port(), "/sim/clock",
                        fmt::format(R"({{"advance_seconds":{}}})", (60'000 - into) / 1000 + 1)));
  int refused = 0;
  for (int i = 0; i < 25; ++i) {
    const auto reply = search(*sim, "{}");
    ASSERT_TRUE(reply);
    refused += reply->status == 429 ? 1 : 0;
    EXPECT_TRUE(reply->header("Retry-After").empty());
  }
  EXPECT_EQ(refused, 5);
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("calls_per_minute_max"), 25);
  EXPECT_EQ(report->at("rate_limited"), 5);
}

TEST(CrunchbaseSim, AutocompleteIsAKeyedRateLimitedGet) {
  START_CRUNCHBASE(sim, "--seed", "12", "--key", "secret", "--orgs", "200", "--rate-limit", "6",
                   "--rate-window", "3600");
  const auto get = [&](const std::string& target, const std::string& key) {
    return http_request(sim->port(), "GET", target, {}, default_http_timeout,
                        {{"X-cb-user-key", key}});
  };
  auto reply = get("/api/v4/autocompletes?query=a", "guess");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  reply = get("/api/v4/autocompletes?query=A&collection_ids=organizations&limit=3", "secret");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto page = bj::parse(reply->body);
  EXPECT_GT(page.at("count").as_int64(), 3);
  ASSERT_EQ(page.at("entities").as_array().size(), 3u);
  for (const auto& e : page.at("entities").as_array()) {
    const auto& id = e.at("identifier").as_object();
    EXPECT_EQ(id.at("entity_def_id"), "organization");
    // Case-insensitive: the name or the permalink holds an "a".
    std::string text =
        std::string(id.at("value").as_string()) + " " + std::string(id.at("permalink").as_string());
    EXPECT_NE(text.find_first_of("aA"), std::string::npos) << text;
  }
  reply = http_get(sim->port(), "/api/v4/autocompletes?query=a&user_key=secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  reply = get("/api/v4/autocompletes?limit=3", "secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  reply = get("/api/v4/autocompletes?query=a&collection_ids=people", "secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  reply = get("/api/v4/autocompletes?query=a&limit=26", "secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  // Refused requests count too: the sixth call with the key fills the hour-long window's quota,
  // the seventh is refused.
  reply = get("/api/v4/autocompletes?query=a", "secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  reply = get("/api/v4/autocompletes?query=a", "secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 429);
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("calls_per_window_max"), 8);  // the bad key's call counts too
  EXPECT_EQ(report->at("rate_limited"), 1);
}

}  // namespace
}  // namespace etl::test
