// animals-sim as a process: the API's shapes and errors, home, verify mode, the report, chaos
// and every fault mode, seen from a client on 127.0.0.1.
#include "etl/test/sim_process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "etl/test/http.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
namespace bj = boost::json;

// Starts a sim or fails the test with the reason.
#define START_SIM(var, ...)                                      \
  std::string var##_why;                                         \
  auto var = sim_process::start({__VA_ARGS__}, 10s, &var##_why); \
  ASSERT_TRUE(var) << var##_why

bj::value json_of(const http_reply& reply) {
  error_code ec;
  auto v = bj::parse(reply.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << reply.body.substr(0, 200);
  return v;
}

bj::value get_json(const sim_process& sim, std::string_view target, int status = 200) {
  const auto reply = http_get(sim.port(), target);
  EXPECT_TRUE(reply) << target << ": " << reply.error().message();
  if (!reply) {
    return nullptr;
  }
  EXPECT_EQ(reply->status, status) << target << ": " << reply->body;
  return json_of(*reply);
}

// The ETL's transform, written again here from the contract: friends split on commas,
// born_at as ISO 8601 UTC with milliseconds.
bj::object transformed(const bj::object& detail) {
  bj::array friends;
  const std::string joined(detail.at("friends").as_string());
  for (std::size_t start = 0; !joined.empty();) {
    const auto comma = joined.find(',', start);
    friends.emplace_back(joined.substr(start, comma - start));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  bj::object out{{"id", detail.at("id")}, {"name", detail.at("name")}, {"friends", friends}};
  if (detail.at("born_at").is_null()) {
    out["born_at"] = nullptr;
  } else {
    const std::chrono::sys_time<std::chrono::milliseconds> t{
        std::chrono::milliseconds{detail.at("born_at").as_int64()}};
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{t - day};
    out["born_at"] = fmt::format(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
        hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
  }
  return out;
}

std::string home_body(const sim_process& sim, std::vector<std::int64_t> ids) {
  bj::array items;
  for (const auto id : ids) {
    items.push_back(
        transformed(get_json(sim, fmt::format("/animals/v1/animals/{}", id)).as_object()));
  }
  return bj::serialize(items);
}

TEST(animals_sim, listing_and_detail_have_the_originals_shape_and_agree) {
  START_SIM(sim, "--seed", "5", "--chaos-percent", "0", "--pages", "30");
  EXPECT_EQ(get_json(*sim, "/sim/config").at("total_pages"), 30);
  EXPECT_EQ(get_json(*sim, "/sim/config").at("port"), sim->port());
  for (const int page : {1, 2, 30}) {
    const auto reply = http_get(sim->port(), fmt::format("/animals/v1/animals?page={}", page));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->header("Content-Type"), "application/json");
    const auto listing = json_of(*reply).as_object();
    EXPECT_EQ(listing.size(), 3U);
    EXPECT_EQ(listing.at("page"), page);
    EXPECT_EQ(listing.at("total_pages"), 30);
    const auto& items = listing.at("items").as_array();
    ASSERT_EQ(items.size(), 10U);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i].as_object();
      const std::int64_t id = (page - 1) * 10 + static_cast<std::int64_t>(i);
      EXPECT_EQ(item.at("id"), id);
      const auto detail = get_json(*sim, fmt::format("/animals/v1/animals/{}", id)).as_object();
      EXPECT_EQ(detail.size(), 4U);
      EXPECT_EQ(detail.at("id"), id);
      EXPECT_EQ(detail.at("name"), item.at("name"));
      EXPECT_EQ(detail.at("born_at"), item.at("born_at"));
      EXPECT_TRUE(detail.at("born_at").is_null() || detail.at("born_at").is_int64());
      const std::string friends(detail.at("friends").as_string());
      EXPECT_EQ(friends.find(' '), std::string::npos);
      EXPECT_FALSE(friends.starts_with(',') || friends.ends_with(','));
    }
  }
  EXPECT_EQ(get_json(*sim, "/animals/v1/animals").at("page"), 1) << "page defaults to 1";
}

TEST(animals_sim, same_seed_same_data_across_runs) {
  START_SIM(a, "--seed", "99", "--chaos-percent", "0");
  START_SIM(b, "--seed", "99", "--chaos-percent", "0");
  const auto total_pages = get_json(*a, "/sim/config").at("total_pages").as_int64();
  EXPECT_GE(total_pages, 500);
  EXPECT_LE(total_pages, 600);
  for (const auto target :
       {"/animals/v1/animals?page=1", "/animals/v1/animals?page=321", "/animals/v1/animals/4321"}) {
    EXPECT_EQ(http_get(a->port(), target)->body, http_get(b->port(), target)->body) << target;
  }
}

TEST(animals_sim, pages_and_ids_out_of_range_or_not_integers) {
  START_SIM(sim, "--seed", "5", "--chaos-percent", "0", "--pages", "30");
  EXPECT_TRUE(get_json(*sim, "/animals/v1/animals?page=31").at("items").as_array().empty());
  EXPECT_TRUE(get_json(*sim, "/animals/v1/animals?page=100000").at("items").as_array().empty());
  const auto bad_page = get_json(*sim, "/animals/v1/animals?page=abc", 422);
  EXPECT_EQ(bad_page.at("detail").at(0).at("loc"), (bj::array{"query", "page"}));
  for (const auto target : {"/animals/v1/animals/300", "/animals/v1/animals/-1"}) {
    const auto reply = http_get(sim->port(), target);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 500) << target;
  }
  EXPECT_EQ(get_json(*sim, "/animals/v1/animals/299").at("id"), 299);
  get_json(*sim, "/animals/v1/animals/abc", 422);
  EXPECT_EQ(get_json(*sim, "/no/such/path", 404), (bj::object{{"detail", "Not Found"}}));
}

TEST(animals_sim, home_limits_types_and_counts) {
  START_SIM(sim, "--seed", "6", "--chaos-percent", "0", "--pages", "20");
  std::vector<std::int64_t> ids(101);
  std::iota(ids.begin(), ids.end(), 0);
  const auto too_many = http_post(sim->port(), "/animals/v1/home", home_body(*sim, ids));
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 400);
  EXPECT_EQ(json_of(*too_many), (bj::object{{"detail", "Sorry, only 100 animals at a time"}}));

  const auto wrong = http_post(sim->port(), "/animals/v1/home",
                               R"([{"id":1,"name":"Bat","friends":[],"born_at":"yesterday"}])");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 422);
  const auto detail = json_of(*wrong).at("detail").as_array();
  ASSERT_EQ(detail.size(), 1U);
  EXPECT_EQ(detail[0].at("loc"), (bj::array{"body", 0, "born_at"}));
  EXPECT_TRUE(detail[0].at("msg").is_string());
  EXPECT_TRUE(detail[0].at("type").is_string());

  ids.resize(100);
  const auto ok = http_post(sim->port(), "/animals/v1/home", home_body(*sim, ids));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(json_of(*ok), (bj::object{{"message", "Helped 100 find home"}}));

  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("total"), 200);
  EXPECT_EQ(report->at("received"), 100);
  EXPECT_EQ(report->at("missing"), 100);
  EXPECT_EQ(report->at("duplicates"), 0);
  EXPECT_EQ(report->at("unexpected"), 0);
  EXPECT_EQ(report->at("mismatched"), (bj::object{{"name", 0}, {"friends", 0}, {"born_at", 0}}))
      << "the contract's transform matches the source exactly";
  EXPECT_EQ(report->at("posts"), 3);
  EXPECT_EQ(report->at("posts_failed"), 2);
  EXPECT_EQ(report->at("first_missing").at(0), 100);

  ASSERT_FALSE(sim->reset());
  EXPECT_EQ(sim->report()->at("received"), 0);
}

TEST(animals_sim, verify_mode_answers_500_at_a_duplicate_after_taking_earlier_ids) {
  START_SIM(sim, "--seed", "7", "--chaos-percent", "0", "--pages", "5", "--verify");
  const auto first = http_post(sim->port(), "/animals/v1/home", home_body(*sim, {0, 1}));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  const auto again = http_post(sim->port(), "/animals/v1/home", home_body(*sim, {2, 1, 3}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 500);
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("verify"), true);
  EXPECT_EQ(report->at("received"), 3) << "0, 1 and 2 taken; 3 never reached";
  EXPECT_EQ(report->at("duplicates"), 1);
  EXPECT_EQ(report->at("first_duplicates"), (bj::array{1}));
  EXPECT_EQ(report->at("first_missing").at(0), 3);
  EXPECT_EQ(report->at("posts_failed"), 1);
}

TEST(animals_sim, report_counts_fields_that_differ_from_the_source) {
  START_SIM(sim, "--seed", "8", "--chaos-percent", "0", "--pages", "50");
  // Animals with a born_at and two different friends, so each field can be spoiled.
  std::vector<bj::object> items;
  for (std::int64_t id = 0; items.size() < 3 && id < 500; ++id) {
    const auto d = get_json(*sim, fmt::format("/animals/v1/animals/{}", id)).as_object();
    const std::string friends(d.at("friends").as_string());
    const auto comma = friends.find(',');
    if (!d.at("born_at").is_null() && comma != std::string::npos &&
        friends.substr(0, comma) != friends.substr(friends.rfind(',') + 1)) {
      items.push_back(transformed(d));
    }
  }
  ASSERT_EQ(items.size(), 3U);
  items[0]["name"] = "Unicorn";
  auto& friends = items[1]["friends"].as_array();
  std::swap(friends.front(), friends.back());
  std::string born(items[2]["born_at"].as_string());
  born[born.size() - 2] = born[born.size() - 2] == '0' ? '1' : '0';  // 1..9 ms off
  items[2]["born_at"] = born;
  const auto reply = http_post(sim->port(), "/animals/v1/home",
                               bj::serialize(bj::array(items.begin(), items.end())));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(sim->report()->at("mismatched"),
            (bj::object{{"name", 1}, {"friends", 1}, {"born_at", 1}}));
}

// A request's outcome under chaos, timed from the client.
struct timed_reply {
  result<http_reply> reply;
  clock::duration elapsed;
};

timed_reply timed(std::uint16_t port, std::string_view method, std::string target,
                  std::string body = {}) {
  const auto start = clock::now();
  auto reply = http_request(port, method, target, body, 20s);
  return {std::move(reply), clock::now() - start};
}

TEST(animals_sim, full_chaos_with_one_second_pauses) {
  START_SIM(sim, "--seed", "3", "--pages", "5", "--chaos-percent", "100", "--pause-min", "1",
            "--pause-max", "1", "--no-post-pause");
  // Concurrent, so that the pauses overlap and the test takes about one second.
  std::vector<std::future<timed_reply>> gets;
  for (int i = 0; i < 8; ++i) {
    gets.push_back(std::async(std::launch::async, timed, sim->port(), "GET",
                              fmt::format("/animals/v1/animals/{}", i), std::string{}));
  }
  const std::string body = R"([{"id":1,"name":"x","friends":[],"born_at":null}])";
  std::vector<std::future<timed_reply>> posts;
  for (int i = 0; i < 6; ++i) {
    posts.push_back(std::async(std::launch::async, timed, sim->port(), "POST",
                               std::string("/animals/v1/home"), body));
  }
  const auto root = timed(sim->port(), "GET", "/");
  ASSERT_TRUE(root.reply);
  EXPECT_EQ(root.reply->status, 200) << "/ is never chaos";
  EXPECT_EQ(root.reply->body, "\"Hello!\"");
  EXPECT_LT(root.elapsed, 900ms);

  int errors = 0;
  int pauses = 0;
  const std::set<int> chaos_statuses{500, 502, 503, 504};
  for (auto& f : gets) {
    const auto r = f.get();
    ASSERT_TRUE(r.reply) << r.reply.error().message();
    if (r.reply->status == 200) {
      ++pauses;
      EXPECT_GE(r.elapsed, 1s) << "handled only after the pause";
      EXPECT_LT(r.elapsed, 10s);
    } else {
      ++errors;
      EXPECT_TRUE(chaos_statuses.contains(r.reply->status)) << r.reply->status;
      EXPECT_EQ(r.reply->body, "Sorry!");
      EXPECT_EQ(r.reply->header("Content-Type"), "text/plain; charset=utf-8");
      EXPECT_LT(r.elapsed, 900ms) << "a chaos error answers at once";
    }
  }
  int post_errors = 0;
  for (auto& f : posts) {
    const auto r = f.get();
    ASSERT_TRUE(r.reply) << r.reply.error().message();
    EXPECT_LT(r.elapsed, 900ms) << "--no-post-pause: a POST never pauses";
    if (r.reply->status == 200) {
      EXPECT_EQ(json_of(*r.reply), (bj::object{{"message", "Helped 1 find home"}}));
    } else {
      ++post_errors;
      EXPECT_TRUE(chaos_statuses.contains(r.reply->status)) << r.reply->status;
    }
  }
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("chaos").at("errors"), errors + post_errors);
  EXPECT_EQ(report->at("chaos").at("pauses"), pauses);
  EXPECT_EQ(errors + pauses, 8);
}

// --capacity-slots: 16 requests on their own connections at once against 2 slots of 50 ms.
// All are answered (they queue, none fails), never faster than 2 / 50 ms = 40 requests/s, never
// more than 2 at once; "/" and /sim/* pass by the queue. Without the flag there is no
// "capacity" in the report.
TEST(animals_sim, capacity_slots_queue_requests_and_bound_the_rate) {
  START_SIM(sim, "--seed", "5", "--pages", "5", "--chaos-percent", "0", "--capacity-slots", "2",
            "--request-cost-us", "50000");
  const auto start = clock::now();
  std::vector<std::future<timed_reply>> gets;
  for (int i = 0; i < 16; ++i) {
    const std::string target =
        i % 4 == 0 ? "/animals/v1/animals?page=1" : fmt::format("/animals/v1/animals/{}", i);
    gets.push_back(
        std::async(std::launch::async, timed, sim->port(), "GET", target, std::string{}));
  }
  const auto root = timed(sim->port(), "GET", "/");
  ASSERT_TRUE(root.reply);
  EXPECT_EQ(root.reply->status, 200);
  for (auto& f : gets) {
    const auto r = f.get();
    ASSERT_TRUE(r.reply) << r.reply.error().message();
    EXPECT_EQ(r.reply->status, 200) << r.reply->body;
    EXPECT_GE(r.elapsed, 50ms) << "each request holds a slot for its cost";
  }
  const auto elapsed = clock::now() - start;
  EXPECT_GE(elapsed, 8 * 50ms) << "16 holds of 50 ms on 2 slots";
  EXPECT_LT(elapsed, 30s);

  const auto report = sim->report();
  ASSERT_TRUE(report);
  const auto& capacity = report->at("capacity");
  EXPECT_EQ(capacity.at("served").to_number<int>(), 16) << bj::serialize(capacity);
  EXPECT_EQ(capacity.at("busy_max").to_number<int>(), 2);
  EXPECT_EQ(capacity.at("slots").to_number<int>(), 2);
  EXPECT_GT(capacity.at("queued").to_number<int>(), 0) << "more requests than slots waited";
  EXPECT_EQ(sim->config()->at("capacity_slots").to_number<int>(), 2);

  START_SIM(plain, "--seed", "5", "--pages", "5", "--chaos-percent", "0");
  EXPECT_EQ(http_get(plain->port(), "/animals/v1/animals/1")->status, 200);
  EXPECT_FALSE(plain->report()->as_object().contains("capacity")) << "off by default";
}

TEST(animals_sim, chaos_sequence_depends_on_the_seed_only) {
  const auto fates = [](const std::string& seed) {
    std::string why;
    auto sim = sim_process::start(
        {"--seed", seed, "--chaos-percent", "50", "--pause-min", "0", "--pause-max", "0"}, 10s,
        &why);
    EXPECT_TRUE(sim) << why;
    std::vector<int> statuses;
    for (int i = 0; sim && i < 40; ++i) {
      const auto reply = http_get(sim->port(), "/animals/v1/animals/1");
      statuses.push_back(reply ? reply->status : -1);
      EXPECT_EQ(http_get(sim->port(), "/sim/report")->status, 200) << "outside the sequence";
    }
    return statuses;
  };
  const auto a = fates("41");
  EXPECT_EQ(a, fates("41"));
  EXPECT_NE(a, fates("42"));
  EXPECT_GT(std::count(a.begin(), a.end(), 200), 20) << "half the chaos is a (0 s) pause";
  EXPECT_GT(std::count_if(a.begin(), a.end(), [](int s) { return s >= 500; }), 3);
}

struct fault_case {
  const char* flag;
  const char* report_key;
};

void PrintTo(const fault_case& c, std::ostream* os) {
  *os << c.flag;
}

class animals_sim_fault : public ::testing::TestWithParam<fault_case> {};

TEST_P(animals_sim_fault, every_listing_and_detail_get_gets_the_fault) {
  const auto& param = GetParam();
  START_SIM(sim, "--seed", "4", "--pages", "5", "--chaos-percent", "0", param.flag, "100",
            "--trickle-delay-ms", "10");
  const std::string kind = param.report_key;
  for (const std::string target : {"/animals/v1/animals/3", "/animals/v1/animals?page=1"}) {
    SCOPED_TRACE(target);
    const bool detail = target.find('?') == std::string::npos;
    const auto start = clock::now();
    const auto reply = http_get(sim->port(), target);
    const auto elapsed = clock::now() - start;
    if (kind == "reset") {
      ASSERT_FALSE(reply) << "an answer came: " << reply->status;
      continue;
    }
    ASSERT_TRUE(reply) << reply.error().message();
    if (kind == "trickle") {
      // Sent 16 bytes at a time, 10 ms apart: at least one delay per 16 bytes of body.
      EXPECT_GE(elapsed, std::chrono::milliseconds(10 * (reply->body.size() / 16)));
    }
    if (kind == "html_errors") {
      EXPECT_EQ(reply->status, 502);
      EXPECT_EQ(reply->header("Content-Type"), "text/html");
      EXPECT_NE(reply->body.find("<html>"), std::string::npos);
      continue;
    }
    EXPECT_EQ(reply->status, 200);
    error_code ec;
    const auto value = bj::parse(reply->body, ec);
    if (kind == "malformed_json") {
      EXPECT_TRUE(ec) << "parsed: " << reply->body;
      continue;
    }
    ASSERT_FALSE(ec) << reply->body;
    bj::value record = value;
    if (kind == "big_body") {
      // The right answer plus a padding field, 1 MiB in all.
      EXPECT_EQ(reply->body.size(), 1024U * 1024U);
      EXPECT_EQ(record.as_object().erase("padding"), 1U);
    }
    // The records the fault may touch: the detail, or the one item that differs from the norm.
    const auto& items = detail ? bj::array{record} : record.at("items").as_array();
    ASSERT_EQ(items.size(), detail ? 1U : 10U);
    int spoiled = 0;
    for (const auto& item : items) {
      const auto& o = item.as_object();
      const std::size_t keys = detail ? 4 : 3;
      const bool well_typed = o.size() == keys && o.contains("id") && o.at("id").is_int64() &&
                              o.contains("name") && o.at("name").is_string() &&
                              o.contains("born_at") &&
                              (o.at("born_at").is_null() || o.at("born_at").is_int64()) &&
                              (!detail || (o.contains("friends") && o.at("friends").is_string()));
      if (kind == "missing_fields" && o.size() == keys - 1) {
        ++spoiled;
      } else if (kind == "wrong_types" && o.size() == keys && !well_typed) {
        ++spoiled;
      } else {
        EXPECT_TRUE(well_typed) << bj::serialize(o);
      }
    }
    if (kind == "trickle" || kind == "big_body") {
      EXPECT_EQ(spoiled, 0) << "the records themselves are right";
    } else {
      EXPECT_EQ(spoiled, 1) << reply->body;
    }
  }
  EXPECT_EQ(http_get(sim->port(), "/")->body, "\"Hello!\"") << "/ is never faulty";
  const auto report = sim->report();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->at("faults").at(kind), 2);
}

INSTANTIATE_TEST_SUITE_P(modes, animals_sim_fault,
                         ::testing::Values(fault_case{"--fault-malformed-json", "malformed_json"},
                                           fault_case{"--fault-wrong-types", "wrong_types"},
                                           fault_case{"--fault-missing-fields", "missing_fields"},
                                           fault_case{"--fault-html-errors", "html_errors"},
                                           fault_case{"--fault-reset", "reset"},
                                           fault_case{"--fault-trickle", "trickle"},
                                           fault_case{"--fault-big-body", "big_body"}),
                         [](const ::testing::TestParamInfo<fault_case>& test) {
                           return std::string(test.param.report_key);
                         });

// Two requests on one connection, then the server closes it after its keep-alive timeout.
TEST(animals_sim, keeps_connections_alive_until_idle) {
  START_SIM(sim, "--seed", "1", "--chaos-percent", "0", "--keep-alive-timeout", "1");
  net::io_context context;
  beast::tcp_stream stream(context);
  bool closed_by_server = false;
  int answered = 0;
  net::co_spawn(
      context,
      [&]() -> net::awaitable<void> {
        const auto tuple = net::as_tuple(net::use_awaitable);
        stream.expires_after(5s);
        co_await stream.async_connect(
            net::ip::tcp::endpoint(net::ip::address_v4::loopback(), sim->port()), tuple);
        beast::flat_buffer buffer;
        for (const auto target : {"/animals/v1/animals/1", "/animals/v1/animals?page=2"}) {
          http::request<http::empty_body> req{http::verb::get, target, 11};
          req.set(http::field::host, "127.0.0.1");
          stream.expires_after(5s);
          co_await http::async_write(stream, req, tuple);
          http::response<http::string_body> res;
          auto [ec, n] = co_await http::async_read(stream, buffer, res, tuple);
          if (!ec && res.result_int() == 200 && res.keep_alive()) {
            ++answered;
          }
        }
        // Idle now: the server closes within its 1 s timeout (our deadline is 5 s).
        stream.expires_after(5s);
        http::response<http::string_body> none;
        auto [ec, n] = co_await http::async_read(stream, buffer, none, tuple);
        closed_by_server = ec == http::error::end_of_stream;
      },
      [](std::exception_ptr e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  context.run();
  EXPECT_EQ(answered, 2);
  EXPECT_TRUE(closed_by_server);
  EXPECT_EQ(sim->report()->at("connections"), 2) << "ours and report()'s";
}

// A client that sends "Expect: 100-continue" waits for the interim answer before the body.
TEST(animals_sim, answers_100_continue_before_a_body) {
  START_SIM(sim, "--seed", "1", "--chaos-percent", "0");
  net::io_context context;
  beast::tcp_stream stream(context);
  unsigned interim = 0;
  unsigned final_status = 0;
  net::co_spawn(
      context,
      [&]() -> net::awaitable<void> {
        const auto tuple = net::as_tuple(net::use_awaitable);
        stream.expires_after(5s);
        co_await stream.async_connect(
            net::ip::tcp::endpoint(net::ip::address_v4::loopback(), sim->port()), tuple);
        http::request<http::string_body> req{http::verb::post, "/animals/v1/home", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::expect, "100-continue");
        req.body() = "[]";
        req.prepare_payload();
        http::request_serializer<http::string_body> serializer(req);
        co_await http::async_write_header(stream, serializer, tuple);
        beast::flat_buffer buffer;
        http::response<http::empty_body> go_on;
        auto [ec, n] = co_await http::async_read(stream, buffer, go_on, tuple);
        interim = ec ? 0 : go_on.result_int();
        co_await http::async_write(stream, serializer, tuple);
        http::response<http::string_body> res;
        std::tie(ec, n) = co_await http::async_read(stream, buffer, res, tuple);
        final_status = ec ? 0 : res.result_int();
      },
      [](std::exception_ptr e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  context.run();
  EXPECT_EQ(interim, 100U);
  EXPECT_EQ(final_status, 200U);
  const auto helper =
      http_request(sim->port(), "POST", "/animals/v1/home", "[]", 5s, {{"Expect", "100-continue"}});
  ASSERT_TRUE(helper);
  EXPECT_EQ(helper->status, 200) << "the helper skips the interim answer";
}

TEST(animals_sim, sigterm_and_sigint_stop_it_cleanly) {
  for (const int sig : {SIGTERM, SIGINT}) {
    START_SIM(sim, "--chaos-percent", "0");
    ASSERT_TRUE(http_get(sim->port(), "/"));
    EXPECT_TRUE(sim->process().signal(sig));
    EXPECT_EQ(sim->process().wait(10s), 0) << "signal " << sig;
  }
}

TEST(animals_sim, a_bad_flag_stops_it_before_listening_with_status_2) {
  std::string why;
  const auto sim = sim_process::start({"--chaos-percent", "250"}, 10s, &why);
  ASSERT_FALSE(sim);
  EXPECT_NE(why.find("status 2"), std::string::npos) << why;
}

TEST(animals_sim, help_lists_the_flags_and_exits_0) {
  auto child = child_process::start(bin_path("animals-sim"), {"--help"});
  ASSERT_TRUE(child);
  EXPECT_TRUE(child->read_until_eof(10s));
  EXPECT_EQ(child->wait(10s), 0);
  EXPECT_NE(child->output().find("--fault-trickle"), std::string::npos);
  EXPECT_NE(child->output().find("--no-post-pause"), std::string::npos);
  EXPECT_NE(child->output().find("--capacity-slots"), std::string::npos);
}

}  // namespace
}  // namespace etl::test
