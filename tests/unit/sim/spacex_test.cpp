// spacex-sim without a network: the generated dataset's edges, the query engine (filters, casts,
// sort, select, the paging envelope) and the routes driven as plain calls.
#include "etl/sim/spacex.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace etl {
namespace {

namespace bj = boost::json;

const spacex_dataset& data() {
  static const spacex_dataset d = make_spacex_dataset(7, spacex_default_launches, false);
  return d;
}

std::string str(const bj::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

bool non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 127; });
}

TEST(SpacexData, HasTheRealDatasetsShape) {
  const auto& launches = data().launches;
  ASSERT_EQ(launches.size(), 205U);
  std::map<int, int> per_year;
  std::set<std::string> names;
  std::set<std::string> ids;
  std::map<std::string, int> precision;
  std::map<std::string, int> same_date;
  int midnight = 0;
  int upcoming = 0;
  int success_true = 0;
  int success_false = 0;
  int success_null = 0;
  for (const auto& l : launches) {
    const auto date = str(l, "date_utc");
    ASSERT_EQ(date.size(), 24U) << date;
    EXPECT_GE(date, "2006-03-24T00:00:00.000Z");
    EXPECT_LE(date, "2022-12-05T23:59:59.999Z");
    ++per_year[std::stoi(date.substr(0, 4))];
    ++precision[str(l, "date_precision")];
    ++same_date[date];
    midnight += date.substr(11) == "00:00:00.000Z" ? 1 : 0;
    names.insert(str(l, "name"));
    ids.insert(str(l, "id"));
    EXPECT_EQ(str(l, "id").size(), 24U);
    if (l.at("upcoming").as_bool()) {
      ++upcoming;
      EXPECT_GE(date, "2022-10-08") << "upcoming launches are dated in the past";
      EXPECT_TRUE(l.at("success").is_null());
    }
    const auto& s = l.at("success");
    (s.is_null() ? success_null : s.as_bool() ? success_true : success_false)++;
  }
  EXPECT_EQ(per_year.count(2011), 0U);
  EXPECT_EQ(per_year[2022], 62);
  EXPECT_EQ(names.size(), 205U);
  EXPECT_EQ(ids.size(), 205U);
  EXPECT_EQ(upcoming, 18);
  EXPECT_EQ(success_true, 181);
  EXPECT_EQ(success_false, 5);
  EXPECT_EQ(success_null, 19);
  EXPECT_EQ(precision["hour"], 192);
  EXPECT_EQ(precision["month"], 8);
  EXPECT_EQ(precision["day"], 5);
  EXPECT_EQ(midnight, 13);
  EXPECT_EQ(same_date["2022-11-01T00:00:00.000Z"], 3);
  EXPECT_EQ(same_date["2022-12-01T00:00:00.000Z"], 5);
  EXPECT_EQ(str(launches.front(), "name"), "FalconSat");
  EXPECT_EQ(str(launches.front(), "date_utc"), "2006-03-24T22:30:00.000Z");
  EXPECT_EQ(launches.front().at("date_unix").as_int64(), 1143239400);
  EXPECT_EQ(str(launches.front(), "date_local"), "2006-03-25T10:30:00+12:00");
  EXPECT_TRUE(names.contains("TürkmenÄlem 52°E / MonacoSAT"));
  EXPECT_TRUE(names.contains("Es’hail 2"));
  EXPECT_TRUE(names.contains("Türksat 5B"));
}

TEST(SpacexData, FlightNumbersRepeatAndSkipOnlyAmongUpcoming) {
  std::map<std::int64_t, int> count;
  std::int64_t previous = 0;
  for (const auto& l : data().launches) {
    const auto n = l.at("flight_number").as_int64();
    EXPECT_GE(n, previous) << "natural order is flight_number ascending";
    previous = n;
    if (++count[n] > 1) {
      EXPECT_TRUE(l.at("upcoming").as_bool());
    }
  }
  EXPECT_EQ(count[188], 4);
  EXPECT_EQ(count[198], 2);
  EXPECT_EQ(count.count(190), 0U);
  EXPECT_EQ(count.count(201), 0U);
  EXPECT_EQ(count.rbegin()->first, 203);
  EXPECT_EQ(count.begin()->first, 1);
}

TEST(SpacexData, DateUnixDisagreesOnlyOnCots2AndSsoA) {
  std::map<std::string, std::int64_t> skew;
  for (const auto& l : data().launches) {
    const auto date = str(l, "date_utc");
    std::tm tm{};
    strptime(date.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    const auto expected = static_cast<std::int64_t>(timegm(&tm));
    if (l.at("date_unix").as_int64() != expected) {
      skew[str(l, "name")] = l.at("date_unix").as_int64() - expected;
    }
  }
  EXPECT_EQ(skew, (std::map<std::string, std::int64_t>{{"COTS 2", -20 * 86400}, {"SSO-A", 120}}));
}

TEST(SpacexData, CoresHaveNullsFalconHeavyTriplesAndConsistentFlights) {
  std::size_t entries = 0;
  std::size_t null_cores = 0;
  std::size_t triples = 0;
  std::set<std::string> distinct;
  std::set<std::pair<std::string, std::string>> pairs;
  std::map<std::string, std::int64_t> last_flight;
  std::vector<const bj::object*> by_date;
  for (const auto& l : data().launches) {
    by_date.push_back(&l);
  }
  std::stable_sort(by_date.begin(), by_date.end(), [](auto* a, auto* b) {
    return a->at("date_utc").as_string() < b->at("date_utc").as_string();
  });
  for (const auto* l : by_date) {
    const auto& cores = l->at("cores").as_array();
    triples += cores.size() == 3 ? 1 : 0;
    EXPECT_TRUE(cores.size() == 1 || cores.size() == 3);
    for (const auto& c : cores) {
      ++entries;
      const auto& core = c.as_object();
      for (std::string_view key :
           {"core", "flight", "gridfins", "legs", "reused", "landing_attempt", "landing_success",
            "landing_type", "landpad"}) {
        EXPECT_TRUE(core.contains(key)) << key;
      }
      if (core.at("core").is_null()) {
        ++null_cores;
        EXPECT_TRUE(l->at("upcoming").as_bool());
        continue;
      }
      const auto id = str(core, "core");
      distinct.insert(id);
      EXPECT_TRUE(pairs.emplace(id, str(*l, "id")).second) << "a core twice on one launch";
      // A core's flight counts its launches in date order.
      EXPECT_EQ(core.at("flight").as_int64(), last_flight[id] + 1) << id;
      last_flight[id] = core.at("flight").as_int64();
      EXPECT_LE(last_flight[id], 14);
      const auto& type = core.at("landing_type");
      EXPECT_TRUE(type.is_null() || type == "ASDS" || type == "RTLS" || type == "Ocean");
    }
  }
  EXPECT_EQ(entries, 215U);
  EXPECT_EQ(null_cores, 19U);
  EXPECT_EQ(triples, 5U);
  EXPECT_EQ(distinct.size(), 78U);
}

TEST(SpacexData, LaunchKeysComeInTheRealOrderWithTheRealNullables) {
  const std::vector<std::string_view> order = {"fairings",
                                               "links",
                                               "static_fire_date_utc",
                                               "static_fire_date_unix",
                                               "net",
                                               "window",
                                               "rocket",
                                               "success",
                                               "failures",
                                               "details",
                                               "crew",
                                               "ships",
                                               "capsules",
                                               "payloads",
                                               "launchpad",
                                               "flight_number",
                                               "name",
                                               "date_utc",
                                               "date_unix",
                                               "date_local",
                                               "date_precision",
                                               "upcoming",
                                               "cores",
                                               "auto_update",
                                               "tbd",
                                               "launch_library_id",
                                               "id"};
  int null_fairings = 0;
  int null_details = 0;
  int non_ascii_details = 0;
  std::size_t longest = 0;
  for (const auto& l : data().launches) {
    std::vector<std::string_view> keys;
    for (const auto& m : l) {
      keys.push_back(m.key());
    }
    ASSERT_EQ(keys, order);
    null_fairings += l.at("fairings").is_null() ? 1 : 0;
    if (l.at("details").is_null()) {
      ++null_details;
    } else {
      non_ascii_details += non_ascii(l.at("details").as_string()) ? 1 : 0;
      longest = std::max(longest, l.at("details").as_string().size());
    }
  }
  EXPECT_GT(null_fairings, 20);
  EXPECT_GT(null_details, 40);
  EXPECT_GE(non_ascii_details, 10);
  EXPECT_EQ(longest, 1302U);
}

TEST(SpacexData, ThirtyCrewEachOnOneLaunchLinkedBothWays) {
  const auto& crew = data().crew;
  ASSERT_EQ(crew.size(), 30U);
  std::map<std::string, std::string> launch_of;  // crew id -> launch id, from the launches
  for (const auto& l : data().launches) {
    for (const auto& c : l.at("crew").as_array()) {
      EXPECT_TRUE(launch_of.emplace(str(c.as_object(), "crew"), str(l, "id")).second);
      EXPECT_TRUE(c.as_object().at("role").is_string());
    }
  }
  EXPECT_EQ(launch_of.size(), 30U);
  std::string previous;
  for (const auto& m : crew) {
    EXPECT_GT(str(m, "id"), previous) << "ascending id";
    previous = str(m, "id");
    ASSERT_EQ(m.at("launches").as_array().size(), 1U);
    EXPECT_EQ(str(m, "status"), "active");
    EXPECT_EQ(launch_of[str(m, "id")], m.at("launches").as_array()[0].as_string());
  }
}

TEST(SpacexData, CrewQuirksAddNullsEmptyLaunchesAndOtherStatuses) {
  const auto d = make_spacex_dataset(7, spacex_default_launches, true);
  std::set<std::string> statuses;
  int empty = 0;
  int nulls = 0;
  for (const auto& m : d.crew) {
    statuses.insert(str(m, "status"));
    empty += m.at("launches").as_array().empty() ? 1 : 0;
    for (std::string_view key : {"name", "agency", "image", "wikipedia"}) {
      nulls += m.at(key).is_null() ? 1 : 0;
    }
  }
  EXPECT_EQ(statuses, (std::set<std::string>{"active", "inactive", "retired", "unknown"}));
  EXPECT_EQ(empty, 4);
  EXPECT_EQ(nulls, 4);
}

TEST(SpacexData, SameSeedSameDataOtherSeedOtherIds) {
  const auto again = make_spacex_dataset(7, spacex_default_launches, false);
  EXPECT_EQ(again.launches, data().launches);
  EXPECT_EQ(again.crew, data().crew);
  const auto other = make_spacex_dataset(8, spacex_default_launches, false);
  EXPECT_NE(other.launches.front().at("id"), data().launches.front().at("id"));
  EXPECT_EQ(other.launches.size(), 205U);
}

TEST(SpacexData, LaunchesFlagScalesUpAndDown) {
  const auto big = make_spacex_dataset(7, 2000, false);
  ASSERT_EQ(big.launches.size(), 2000U);
  std::set<std::string> ids;
  for (const auto& l : big.launches) {
    ids.insert(str(l, "id"));
  }
  EXPECT_EQ(ids.size(), 2000U);
  const auto small = make_spacex_dataset(7, 10, false);
  ASSERT_EQ(small.launches.size(), 10U);
  EXPECT_EQ(small.launches.back().at("flight_number").as_int64(), 10);
}

// --- the query engine ---

bj::object run(std::string_view body, std::optional<std::uint64_t> ties = std::nullopt) {
  auto answer = spacex_query(data().launches, bj::parse(body), "Launch", ties);
  EXPECT_TRUE(answer) << (answer ? "" : answer.error().message);
  return answer ? answer->envelope : bj::object{};
}

std::vector<std::string_view> keys_of(const bj::object& o) {
  std::vector<std::string_view> keys;
  for (const auto& m : o) {
    keys.push_back(m.key());
  }
  return keys;
}

TEST(SpacexQuery, DefaultPageHasTheEnvelopeInOrder) {
  const auto e = run("{}");
  EXPECT_EQ(keys_of(e),
            (std::vector<std::string_view>{"docs", "totalDocs", "offset", "limit", "totalPages",
                                           "page", "pagingCounter", "hasPrevPage", "hasNextPage",
                                           "prevPage", "nextPage"}));
  EXPECT_EQ(e.at("docs").as_array().size(), 10U);
  EXPECT_EQ(e.at("totalDocs"), 205);
  EXPECT_EQ(e.at("offset"), 0);
  EXPECT_EQ(e.at("totalPages"), 21);
  EXPECT_EQ(e.at("nextPage"), 2);
  EXPECT_TRUE(e.at("prevPage").is_null());
}

TEST(SpacexQuery, PageSentLeavesOffsetOutAndPastTheEndIsEmpty) {
  auto e = run(R"({"options":{"page":3,"limit":50}})");
  EXPECT_FALSE(e.contains("offset"));
  EXPECT_EQ(e.at("pagingCounter"), 101);
  EXPECT_EQ(e.at("docs").as_array().size(), 50U);
  e = run(R"({"options":{"page":30,"limit":10}})");
  EXPECT_TRUE(e.at("docs").as_array().empty());
  EXPECT_EQ(e.at("hasNextPage"), false);
  EXPECT_EQ(e.at("hasPrevPage"), true);
  EXPECT_EQ(e.at("prevPage"), 29);
  EXPECT_TRUE(e.at("nextPage").is_null());
  e = run(R"({"options":{"page":-4}})");
  EXPECT_EQ(e.at("page"), 1);
}

TEST(SpacexQuery, OffsetSetsThePage) {
  const auto e = run(R"({"options":{"offset":25,"limit":10}})");
  EXPECT_EQ(e.at("offset"), 25);
  EXPECT_EQ(e.at("page"), 3);
  EXPECT_EQ(e.at("docs").as_array()[0].as_object().at("flight_number"), 26);
}

TEST(SpacexQuery, LimitZeroOrNonNumericGivesNoDocs) {
  for (std::string_view body : {R"({"options":{"limit":0}})", R"({"options":{"limit":"lots"}})",
                                R"({"options":{"limit":-5,"page":4}})"}) {
    const auto e = run(body);
    EXPECT_TRUE(e.at("docs").as_array().empty()) << body;
    EXPECT_EQ(e.at("limit"), 0) << body;
    EXPECT_EQ(e.at("totalPages"), 1) << body;
    EXPECT_EQ(e.at("page"), 1) << body;
    EXPECT_EQ(e.at("hasNextPage"), false) << body;
  }
}

TEST(SpacexQuery, PaginationFalseReturnsEverything) {
  const auto e = run(R"({"options":{"pagination":false,"limit":3}})");
  EXPECT_EQ(e.at("docs").as_array().size(), 205U);
  EXPECT_EQ(e.at("limit"), 205);
  EXPECT_EQ(e.at("totalPages"), 1);
}

TEST(SpacexQuery, ZeroMatchesIsOnePage) {
  const auto e = run(R"({"query":{"name":"no such launch"}})");
  EXPECT_TRUE(e.at("docs").as_array().empty());
  EXPECT_EQ(e.at("totalDocs"), 0);
  EXPECT_EQ(e.at("totalPages"), 1);
  EXPECT_EQ(e.at("page"), 1);
}

TEST(SpacexQuery, DateWindowsCompareTextAndMatchTheOriginalsCounts) {
  const auto count = [](std::string_view from, std::string_view to) {
    return run(fmt::format(
                   R"({{"query":{{"date_utc":{{"$gte":"{}T00:00:00.000Z","$lte":"{}T00:00:00.000Z"}}}},"options":{{"limit":1}}}})",
                   from, to))
        .at("totalDocs")
        .as_int64();
  };
  EXPECT_EQ(count("2015-01-01", "2024-06-01"), 187);
  EXPECT_EQ(count("2006-03-01", "2024-05-16"), 205);
  EXPECT_EQ(count("2020-01-01", "2020-06-01"), 8);
}

TEST(SpacexQuery, FiltersCastLikeMongoose) {
  EXPECT_EQ(run(R"({"query":{"flight_number":"188"}})").at("totalDocs"), 4);
  EXPECT_EQ(run(R"({"query":{"upcoming":"true"}})").at("totalDocs"), 18);
  EXPECT_EQ(run(R"({"query":{"success":null,"upcoming":false}})").at("totalDocs"), 1);
  EXPECT_EQ(run(R"({"query":{"cores.core":null}})").at("totalDocs"), 17);
  EXPECT_EQ(run(R"({"query":{"flight_number":{"$in":[1,2,3]}}})").at("totalDocs"), 3);
  EXPECT_EQ(run(R"({"query":{"$or":[{"name":"FalconSat"},{"name":"DemoSat"}]}})").at("totalDocs"),
            2);
  EXPECT_EQ(run(R"({"query":{"name":{"$regex":"^crew-","$options":"i"}}})").at("totalDocs"), 5);
  EXPECT_EQ(run(R"({"query":{"id":{"$exists":true}}})").at("totalDocs"), 0)
      << "id is a virtual: the stored field is _id";
  const auto& first = data().launches.front();
  EXPECT_EQ(
      run(fmt::format(R"({{"query":{{"_id":"{}"}}}})", first.at("id").as_string())).at("totalDocs"),
      1);
}

TEST(SpacexQuery, BadFiltersAreRefusedWithMongoosesMessage) {
  auto bad = spacex_query(data().launches, bj::parse(R"({"query":{"flight_number":"abc"}})"),
                          "Launch", std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "Cast to Number failed for value \"abc\" (type string) at path \"flight_number\" for "
            "model \"Launch\"");
  bad = spacex_query(data().launches, bj::parse(R"({"query":{"$where":"1"}})"), "Launch",
                     std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "unknown top level operator: $where");
  bad = spacex_query(data().launches, bj::parse(R"({"query":{"rocket":"falcon9"}})"), "Launch",
                     std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("Cast to ObjectId failed"), std::string::npos);
  bad = spacex_query(data().launches, bj::parse(R"({"options":{"sort":{"name":"up"}}})"), "Launch",
                     std::nullopt);
  EXPECT_FALSE(bad);
}

TEST(SpacexQuery, SelectKeepsRecordOrderAndTheId) {
  const auto e = run(R"({"options":{"select":"name date_utc cores.core","limit":1}})");
  const auto& doc = e.at("docs").as_array()[0].as_object();
  EXPECT_EQ(keys_of(doc), (std::vector<std::string_view>{"name", "date_utc", "cores", "id"}));
  EXPECT_EQ(keys_of(doc.at("cores").as_array()[0].as_object()),
            (std::vector<std::string_view>{"core"}));
  const auto excluded = run(R"({"options":{"select":{"links":0,"details":0},"limit":1}})");
  EXPECT_EQ(excluded.at("docs").as_array()[0].as_object().size(), 25U);
}

TEST(SpacexQuery, SortDescendingAndTiesDifferBetweenPagesUnlessIdBreaksThem) {
  const auto ids_in = [](std::string_view sort, std::uint64_t ties) {
    std::vector<std::string> ids;
    for (int page = 1; page <= 69; ++page) {  // 205 launches, 3 a page
      const auto e =
          run(fmt::format(R"({{"options":{{"sort":{},"page":{},"limit":3}}}})", sort, page), ties);
      for (const auto& d : e.at("docs").as_array()) {
        ids.emplace_back(d.as_object().at("id").as_string());
      }
    }
    return ids;
  };
  const auto first = run(R"({"options":{"sort":{"date_utc":"desc"},"limit":1}})");
  EXPECT_EQ(first.at("docs").as_array()[0].as_object().at("date_utc"), "2022-12-05T20:10:00.000Z");
  // With date_utc alone the 5 launches at 2022-12-01T00:00 straddle pages in another order on
  // each page: some seed of the tie order repeats or skips one.
  bool lost_one = false;
  for (std::uint64_t ties = 1; ties < 20 && !lost_one; ++ties) {
    const auto ids = ids_in(R"({"date_utc":"desc"})", ties);
    lost_one = std::set<std::string>(ids.begin(), ids.end()).size() < 205;
  }
  EXPECT_TRUE(lost_one);
  for (std::uint64_t ties = 1; ties < 5; ++ties) {
    const auto ids = ids_in(R"({"date_utc":"desc","_id":"asc"})", ties);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 205U);
  }
}

// --- the routes, as plain calls ---

sim_reply call(spacex_sim& app, std::string_view method, std::string_view target,
               std::string_view body = {}) {
  sim_request request{method, target, body, "127.0.0.1", {}};
  const auto admission = app.admit(request);
  return admission.early ? *admission.early : app.handle(request, admission);
}

spacex_options options_of(std::vector<std::string_view> args) {
  auto o = parse_spacex_options(args);
  EXPECT_TRUE(o);
  return o ? *o : spacex_options{};
}

TEST(SpacexRoutes, ServeLaunchesCrewAnd404s) {
  spacex_sim app(options_of({"--seed", "7"}));
  const auto all = call(app, "GET", "/v5/launches");
  ASSERT_EQ(all.status, 200U);
  EXPECT_EQ(all.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(bj::parse(all.body).as_array().size(), 205U);
  const auto id = std::string(data().launches[3].at("id").as_string());
  const auto one = call(app, "GET", "/v5/launches/" + id);
  EXPECT_EQ(bj::parse(one.body).as_object().at("id").as_string(), id);
  EXPECT_EQ(call(app, "GET", "/v5/launches/5eb87cd9ffd86e000604b32a").status, 404U);
  EXPECT_EQ(call(app, "GET", "/v5/launches/upcoming").body.size() > 0, true);
  EXPECT_EQ(bj::parse(call(app, "GET", "/v5/launches/upcoming").body).as_array().size(), 18U);
  EXPECT_EQ(bj::parse(call(app, "GET", "/v5/launches/past").body).as_array().size(), 187U);
  EXPECT_EQ(bj::parse(call(app, "GET", "/v4/crew").body).as_array().size(), 30U);
  const auto q = call(app, "POST", "/v5/launches/query", R"({"query":{"flight_number":"x"}})");
  EXPECT_EQ(q.status, 400U);
  EXPECT_EQ(q.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(call(app, "GET", "/v6/launches").status, 404U);
  // v4 launches carry crew as ids.
  const auto v4 =
      bj::parse(call(app, "POST", "/v4/launches/query", R"({"query":{"name":"Crew-1"}})").body);
  EXPECT_TRUE(v4.at("docs").as_array()[0].at("crew").as_array()[0].is_string());
}

TEST(SpacexRoutes, HeadersAndTheCache) {
  spacex_sim app(options_of({"--seed", "7"}));
  const auto first = call(app, "POST", "/v5/launches/query", "{}");
  const auto second = call(app, "POST", "/v5/launches/query", "{}");
  const auto header = [](const sim_reply& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) {
        return v;
      }
    }
    return std::string();
  };
  EXPECT_EQ(header(first, "Cache-Control"), "max-age=20");
  EXPECT_EQ(header(first, "spacex-api-cache"), "MISS");
  EXPECT_EQ(header(second, "spacex-api-cache"), "HIT");
  EXPECT_TRUE(header(first, "ETag").starts_with("W/\""));
  app.clock().advance(std::chrono::seconds{21});
  EXPECT_EQ(header(call(app, "POST", "/v5/launches/query", "{}"), "spacex-api-cache"), "MISS");
  EXPECT_EQ(header(call(app, "GET", "/v4/crew"), "Cache-Control"), "max-age=300");
}

TEST(SpacexRoutes, ReportCountsWhatWasServed) {
  spacex_sim app(options_of({"--seed", "7"}));
  call(app, "POST", "/v5/launches/query", R"({"options":{"limit":5}})");
  call(app, "POST", "/v5/launches/query", R"({"options":{"limit":2}})");
  const auto report = bj::parse(call(app, "GET", "/sim/report").body).as_object();
  const auto& launches = report.at("served").at("launches").as_object();
  EXPECT_EQ(launches.at("distinct"), 5);
  EXPECT_EQ(launches.at("total"), 7);
  EXPECT_EQ(launches.at("ids").at(data().launches[0].at("id").as_string()), 2);
  EXPECT_EQ(report.at("served").at("cores").at("distinct"), 5);
  EXPECT_EQ(report.at("statuses").at("200"), 2);
  call(app, "POST", "/sim/reset");
  EXPECT_TRUE(bj::parse(call(app, "GET", "/sim/report").body).at("served").as_object().empty());
}

TEST(SpacexRoutes, RateLimitAnswers429PerSecondWindow) {
  spacex_sim app(options_of({"--seed", "7", "--rate-limit", "3"}));
  // Start at the beginning of a one-second window so that all four calls share it.
  const auto ms = app.clock().now().time_since_epoch().count() % 1000;
  app.clock().advance(std::chrono::milliseconds{1000 - ms});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call(app, "GET", "/v4/crew").status, 200U);
  }
  EXPECT_EQ(call(app, "GET", "/v4/crew").status, 429U);
  app.clock().advance(std::chrono::seconds{1});
  EXPECT_EQ(call(app, "GET", "/v4/crew").status, 200U);
}

TEST(SpacexOptions, RefuseBadFlags) {
  std::string why;
  std::vector<std::string_view> args = {"--launches", "-1"};
  EXPECT_FALSE(parse_spacex_options(args, &why));
  EXPECT_NE(why.find("--launches"), std::string::npos);
  args = {"--crew-quirks=yes"};
  EXPECT_FALSE(parse_spacex_options(args, &why));
  args = {"--what"};
  EXPECT_FALSE(parse_spacex_options(args, &why));
  args = {"--launches=1000", "--crew-quirks", "--chaos-percent", "5", "--fault-reset", "10"};
  const auto o = parse_spacex_options(args, &why);
  ASSERT_TRUE(o) << why;
  EXPECT_EQ(o->launches, 1000U);
  EXPECT_TRUE(o->crew_quirks);
  EXPECT_EQ(o->common.chaos.chaos_percent, 5U);
  EXPECT_EQ(o->common.listen.port, spacex_default_port);
}

}  // namespace
}  // namespace etl
