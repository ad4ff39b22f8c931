// crunchbase-sim without a network: the organizations' edges, their changes as the clock moves,
// and the search API (keys, field_ids, predicates, order, keyset paging, limits) as plain calls.
#include "etl/sim/crunchbase.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace etl {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

bool has_null(const bj::value& v) {
  if (v.is_null()) {
    return true;
  }
  if (const auto* o = v.if_object()) {
    return std::any_of(o->begin(), o->end(), [](const auto& m) { return has_null(m.value()); });
  }
  if (const auto* a = v.if_array()) {
    return std::any_of(a->begin(), a->end(), [](const auto& e) { return has_null(e); });
  }
  return false;
}

TEST(CrunchbaseData, OrganizationsHaveTheRealEdges) {
  const crunchbase_dataset data(5, 3000);
  const auto orgs = data.at(crunchbase_epoch);
  ASSERT_EQ(orgs.size(), 3000U);
  std::set<std::string> uuids;
  std::set<std::string> permalinks;
  std::map<std::string, int> per_second;
  int no_website = 0;
  int same_created = 0;
  int country_only = 0;
  int no_region = 0;
  int unicode = 0;
  int suffixed = 0;
  for (const auto& org : orgs) {
    const auto& p = org.properties;
    uuids.insert(org.uuid);
    EXPECT_FALSE(has_null(bj::value(p))) << "absent values are omitted, never null";
    ASSERT_TRUE(p.contains("identifier"));
    EXPECT_EQ(p.at("identifier").at("uuid").as_string(), org.uuid);
    EXPECT_EQ(p.at("identifier").at("entity_def_id"), "organization");
    const std::string permalink(p.at("permalink").as_string());
    EXPECT_TRUE(permalinks.insert(permalink).second) << permalink;
    suffixed += permalink.ends_with("-2") || permalink.ends_with(org.uuid.substr(32)) ? 1 : 0;
    ++per_second[std::string(p.at("updated_at").as_string())];
    EXPECT_LE(p.at("updated_at").as_string(), "2024-01-01T00:00:00Z");
    EXPECT_GE(p.at("updated_at").as_string(), "2022-01-01T00:00:00Z");
    no_website += p.contains("website_url") ? 0 : 1;
    same_created += p.at("created_at") == p.at("updated_at") ? 1 : 0;
    const std::string name(p.at("name").as_string());
    unicode += std::any_of(name.begin(), name.end(),
                           [](char c) { return static_cast<unsigned char>(c) > 127; });
    if (const auto* locations = p.if_contains("location_identifiers")) {
      std::set<std::string> types;
      for (const auto& l : locations->as_array()) {
        types.emplace(l.at("location_type").as_string());
      }
      country_only += types == std::set<std::string>{"country"} ? 1 : 0;
      no_region += types.contains("city") && !types.contains("region") ? 1 : 0;
    }
  }
  EXPECT_EQ(uuids.size(), 3000U);
  EXPECT_NEAR(no_website, 420, 90);      // 14 in 100
  EXPECT_NEAR(same_created, 1080, 120);  // 36 in 100
  EXPECT_GT(country_only, 50);
  EXPECT_GT(no_region, 50);
  EXPECT_GT(unicode, 50);
  EXPECT_GT(suffixed, 0) << "clashing permalinks get -2 or the uuid's last 4 hex";
  const auto busiest = std::max_element(per_second.begin(), per_second.end(),
                                        [](auto& a, auto& b) { return a.second < b.second; });
  EXPECT_GE(busiest->second, 10) << "many orgs share one updated_at second";
  // Key order varies between entities.
  std::set<std::string> first_keys;
  for (const auto& org : orgs) {
    first_keys.emplace(org.properties.begin()->key());
  }
  EXPECT_GT(first_keys.size(), 3U);
}

TEST(CrunchbaseData, MovingTheClockChangesSomeOrganizations) {
  const crunchbase_dataset data(5, 3000);
  const auto before = data.at(crunchbase_epoch);
  const auto after = data.at(crunchbase_epoch + std::chrono::hours{24});
  int changed = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (after[i].updated_at != before[i].updated_at) {
      ++changed;
      EXPECT_GT(after[i].updated_at, crunchbase_epoch);
      EXPECT_GT(after[i].version, 0U);
      EXPECT_EQ(after[i].properties.at("updated_at").as_string(),
                sim_iso_seconds(after[i].updated_at));
    } else {
      EXPECT_EQ(after[i].properties, before[i].properties);
    }
  }
  EXPECT_GT(changed, 300);  // about 30 a round, 25 rounds, some twice
  EXPECT_LT(changed, 1000);
  EXPECT_EQ(data.at(crunchbase_epoch + 24h)[7].properties, after[7].properties) << "deterministic";
}

// --- the search API, as plain calls ---

sim_reply call(crunchbase_sim& app, std::string_view body, std::string_view key = "k",
               std::string_view target = "/api/v4/searches/organizations") {
  sim_request request{"POST", target, body, "127.0.0.1", {}};
  if (!key.empty()) {
    request.headers.emplace_back("X-cb-user-key", key);
  }
  const auto admission = app.admit(request);
  return admission.early ? *admission.early : app.handle(request, admission);
}

bj::value report_of(crunchbase_sim& app) {
  const sim_request request{"GET", "/sim/report", {}, {}, {}};
  return bj::parse(app.handle(request, app.admit(request)).body);
}

crunchbase_options options_of(std::vector<std::string_view> args) {
  std::string why;
  auto o = parse_crunchbase_options(args, &why);
  EXPECT_TRUE(o) << why;
  return o ? *o : crunchbase_options{};
}

std::string first_code(const sim_reply& reply) {
  const auto v = bj::parse(reply.body);
  return std::string(v.as_array().at(0).at("code").as_string());
}

TEST(CrunchbaseSearch, KeysInHeaderOrQuery) {
  crunchbase_sim app(options_of({"--seed", "5", "--key", "k"}));
  EXPECT_EQ(call(app, "{}").status, 200U);
  auto reply = call(app, "{}", "");
  EXPECT_EQ(reply.status, 401U);
  EXPECT_EQ(first_code(reply), "LA401");
  EXPECT_EQ(call(app, "{}", "wrong").status, 401U);
  EXPECT_EQ(call(app, "{}", "", "/api/v4/searches/organizations?user_key=k").status, 200U);
  EXPECT_EQ(call(app, "{}", "k", "/api/v4/searches/people").status, 404U);
}

TEST(CrunchbaseSearch, OperatorsFollowTheFieldType) {
  crunchbase_sim app(options_of({"--seed", "5", "--key", "k"}));
  const auto pred = [](std::string_view field, std::string_view op, std::string_view values) {
    return fmt::format(
        R"({{"query":[{{"type":"predicate","field_id":"{}","operator_id":"{}","values":{}}}]}})",
        field, op, values);
  };
  auto reply = call(app, pred("updated_at", "gt", R"(["2023-12-31"])"));
  EXPECT_EQ(reply.status, 400U) << "gt on a date-time is refused";
  EXPECT_EQ(first_code(reply), "MD100");
  EXPECT_EQ(call(app, pred("updated_at", "lt", R"(["2023-12-31"])")).status, 400U);
  EXPECT_EQ(call(app, pred("updated_at", "gte", R"(["2023-12-31"])")).status, 200U);
  EXPECT_EQ(call(app, pred("updated_at", "gte", R"(["2023-12-31T10:00:00Z"])")).status, 200U);
  EXPECT_EQ(call(app, pred("updated_at", "gte", R"(["yesterday"])")).status, 400U);
  EXPECT_EQ(call(app, pred("rank_org", "gt", "[1000]")).status, 200U);
  EXPECT_EQ(call(app, pred("company_type", "gte", R"(["for_profit"])")).status, 400U);
  EXPECT_EQ(call(app, pred("company_type", "includes", R"(["non_profit"])")).status, 200U);
  EXPECT_EQ(call(app, pred("name", "contains", R"(["labs"])")).status, 200U);
  EXPECT_EQ(call(app, pred("nonsense", "eq", R"(["x"])")).status, 400U);
  // The count of a filter equals what the data hold.
  const auto snapshot = app.organizations();
  const auto& orgs = *snapshot;
  const auto labs = std::count_if(orgs.begin(), orgs.end(), [](const crunchbase_org& o) {
    std::string name(o.properties.at("name").as_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    return name.find("labs") != std::string::npos;
  });
  EXPECT_EQ(bj::parse(call(app, pred("name", "contains", R"(["LABS"])")).body).at("count"), labs);
  const auto blank = std::count_if(orgs.begin(), orgs.end(), [](const crunchbase_org& o) {
    return !o.properties.contains("website_url");
  });
  EXPECT_EQ(bj::parse(call(app, pred("website_url", "blank", "[]")).body).at("count"), blank);
}

TEST(CrunchbaseSearch, FieldsLimitsAndHeaders) {
  crunchbase_sim app(options_of({"--seed", "5", "--key", "k", "--basic-key", "b"}));
  const auto reply = call(app, R"({"field_ids":["website_url","rank_org"],"limit":7})");
  ASSERT_EQ(reply.status, 200U);
  const auto body = bj::parse(reply.body);
  EXPECT_EQ(body.at("count"), 3000);
  ASSERT_EQ(body.at("entities").as_array().size(), 7U);
  for (const auto& e : body.at("entities").as_array()) {
    const auto& p = e.at("properties").as_object();
    EXPECT_TRUE(p.contains("identifier")) << "identifier is always returned";
    for (const auto& m : p) {
      EXPECT_TRUE(m.key() == "identifier" || m.key() == "website_url" || m.key() == "rank_org")
          << m.key();
    }
  }
  std::map<std::string, std::string> headers(reply.headers.begin(), reply.headers.end());
  EXPECT_EQ(headers["X-Cb-Engine-Total-Count"], "3000");
  EXPECT_EQ(headers["X-Cb-Engine-Page-Count"], "7");
  EXPECT_EQ(headers["Cache-Control"], "no-cache, private");
  EXPECT_EQ(bj::parse(call(app, "{}").body).at("entities").as_array().size(), 50U)
      << "default limit";
  EXPECT_EQ(call(app, R"({"limit":1001})").status, 400U);
  EXPECT_EQ(call(app, R"({"limit":1000})").status, 200U);
  const auto some = bj::parse(call(app, R"({"limit":2})").body).at("entities").as_array();
  EXPECT_EQ(call(app, fmt::format(R"({{"after_id":"{}","before_id":"{}"}})",
                                  some[0].at("uuid").as_string(), some[1].at("uuid").as_string()))
                .status,
            400U);
  const auto forbidden = call(app, R"({"field_ids":["categories","name"]})", "b");
  EXPECT_EQ(forbidden.status, 403U);
  EXPECT_EQ(bj::parse(forbidden.body).at(0).at("message"),
            "insufficient permissions to read field categories");
  EXPECT_EQ(call(app, R"({"field_ids":["name","linkedin"]})", "b").status, 200U);
}

TEST(CrunchbaseSearch, KeysetPagingVisitsEveryMatchOnceBothWays) {
  crunchbase_sim app(options_of({"--seed", "5", "--key", "k", "--rate-limit", "0"}));
  const std::string base =
      R"("field_ids":["uuid","rank_org"],"order":[{"field_id":"rank_org","sort":"asc"}],"limit":100)";
  std::vector<std::string> seen;
  std::string cursor;
  for (int guard = 0; guard < 100; ++guard) {
    const auto body =
        cursor.empty() ? "{" + base + "}" : "{" + base + R"(,"after_id":")" + cursor + "\"}";
    const auto page = bj::parse(call(app, body).body);
    const auto& entities = page.at("entities").as_array();
    for (const auto& e : entities) {
      seen.emplace_back(e.at("uuid").as_string());
    }
    if (entities.size() < 100) {
      break;
    }
    cursor = seen.back();
  }
  EXPECT_EQ(seen.size(), 3000U);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 3000U);
  // before_id: the page before an entity, in the same order.
  const auto back = bj::parse(call(app, "{" + base + R"(,"before_id":")" + seen[250] + "\"}").body);
  const auto& entities = back.at("entities").as_array();
  ASSERT_EQ(entities.size(), 100U);
  EXPECT_EQ(entities.front().at("uuid").as_string(), seen[150]);
  EXPECT_EQ(entities.back().at("uuid").as_string(), seen[249]);
  EXPECT_EQ(call(app, "{" + base + R"(,"after_id":"00000000-0000-0000-0000-000000000000"})").status,
            400U);
}

TEST(CrunchbaseSearch, ClockMovesAndOnlyChangedOrgsMatchTheNewWindow) {
  crunchbase_sim app(options_of({"--seed", "5", "--key", "k"}));
  const std::string since =
      R"({"query":[{"type":"predicate","field_id":"updated_at","operator_id":"gte","values":["2024-01-01"]}],"limit":1000})";
  EXPECT_EQ(bj::parse(call(app, since).body).at("count"), 0);
  app.clock().advance(std::chrono::hours{6});
  const auto changed = bj::parse(call(app, since).body);
  const auto count = changed.at("count").as_int64();
  EXPECT_GT(count, 50);
  EXPECT_LT(count, 400);
  const auto report = report_of(app);
  EXPECT_EQ(report.at("served").at("versions").at("distinct"), count);
}

TEST(CrunchbaseSearch, TwoHundredCallsAMinuteThen429) {
  crunchbase_sim app(options_of({"--seed", "5", "--key", "k", "--orgs", "10"}));
  const auto into = app.clock().now().time_since_epoch() % std::chrono::milliseconds{60'000};
  app.clock().advance(std::chrono::milliseconds{60'000} - into);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(call(app, "{}").status, 200U) << i;
  }
  const auto refused = call(app, "{}");
  EXPECT_EQ(refused.status, 429U);
  EXPECT_TRUE(refused.retry_after.empty()) << "no Retry-After, as upstream";
  app.clock().advance(60s);
  EXPECT_EQ(call(app, "{}").status, 200U);
  const auto report = report_of(app);
  EXPECT_EQ(report.at("calls_per_minute_max"), 201);
  EXPECT_EQ(report.at("rate_limited"), 1);
}

}  // namespace
}  // namespace etl
