#include "etl/sim/routes.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace etl {
namespace {

sim_options quiet_options(std::int64_t pages = 3) {
  sim_options o;
  o.seed = 9;
  o.pages = pages;
  o.chaos.chaos_percent = 0;
  return o;
}

// One request through admit and handle, as the server loop runs it (without the pause).
sim_reply call(sim_app& app, std::string_view method, std::string_view target,
               std::string_view body = {}) {
  auto admission = app.admit(method, target);
  if (admission.early) {
    return *admission.early;
  }
  return app.handle(method, target, body, admission);
}

boost::json::value report(const sim_app& app) {
  return boost::json::parse(app.report().to_json());
}

// The home item the ETL must send for a source animal: ISO 8601 UTC with milliseconds.
std::string home_item(const sim_animal& a) {
  boost::json::object o{{"id", a.id}, {"name", a.name}};
  boost::json::array friends;
  for (const auto f : a.friend_list()) {
    friends.emplace_back(f);
  }
  o["friends"] = std::move(friends);
  if (a.born_at_ms) {
    const std::chrono::sys_time<std::chrono::milliseconds> t{
        std::chrono::milliseconds{*a.born_at_ms}};
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{t - day};
    o["born_at"] = fmt::format(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
        hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
  } else {
    o["born_at"] = nullptr;
  }
  return boost::json::serialize(o);
}

std::string home_body(const sim_app& app, std::initializer_list<std::int64_t> ids) {
  std::string body = "[";
  for (const auto id : ids) {
    body += body.size() > 1 ? "," : "";
    body += home_item(app.data().animal(id));
  }
  return body + "]";
}

TEST(sim_app, root_answers_hello_outside_the_chaos_sequence) {
  auto o = quiet_options();
  o.chaos.chaos_percent = 100;
  sim_app app(o);
  for (int i = 0; i < 50; ++i) {
    const auto admission = app.admit("GET", "/");
    EXPECT_FALSE(admission.early);
    EXPECT_EQ(admission.pause.count(), 0);
    EXPECT_FALSE(admission.request_no);
    const auto reply = app.handle("GET", "/", {}, admission);
    EXPECT_EQ(reply.status, 200U);
    EXPECT_EQ(reply.body, "\"Hello!\"");
    EXPECT_FALSE(app.admit("GET", "/sim/report").request_no);
  }
  EXPECT_EQ(app.admit("GET", "/animals/v1/animals/1").request_no, 0U);
  EXPECT_EQ(app.admit("GET", "/nope").request_no, 1U) << "unknown paths take chaos too";
}

TEST(sim_app, listing_pages_and_the_page_parameter) {
  sim_app app(quiet_options());
  const auto page = [&](std::string_view target) {
    const auto reply = call(app, "GET", target);
    EXPECT_EQ(reply.status, 200U) << target;
    EXPECT_EQ(reply.content_type, "application/json");
    return boost::json::parse(reply.body);
  };
  EXPECT_EQ(page("/animals/v1/animals").at("page"), 1);
  EXPECT_EQ(page("/animals/v1/animals?page=2").at("items").as_array()[0].at("id"), 10);
  EXPECT_EQ(page("/animals/v1/animals?page=2&page=3").at("page"), 3) << "the last one wins";
  EXPECT_EQ(page("/animals/v1/animals?page=%32").at("page"), 2);
  EXPECT_EQ(page("/animals/v1/animals?x=1&page=+3+").at("page"), 3);
  EXPECT_TRUE(page("/animals/v1/animals?page=4").at("items").as_array().empty());
  EXPECT_EQ(page("/animals/v1/animals?page=3").at("total_pages"), 3);
  for (const auto bad : {"/animals/v1/animals?page=abc",
                         "/animals/v1/animals?page=", "/animals/v1/animals?page=1.5"}) {
    const auto reply = call(app, "GET", bad);
    EXPECT_EQ(reply.status, 422U) << bad;
    EXPECT_EQ(boost::json::parse(reply.body).at("detail").at(0).at("loc"),
              (boost::json::array{"query", "page"}));
  }
}

TEST(sim_app, details_and_their_errors) {
  sim_app app(quiet_options());
  const auto ok = call(app, "GET", "/animals/v1/animals/29");
  ASSERT_EQ(ok.status, 200U);
  std::string expected;
  app.data().append_detail_json(expected, 29);
  EXPECT_EQ(ok.body, expected);
  for (const auto past : {"/animals/v1/animals/30", "/animals/v1/animals/-1",
                          "/animals/v1/animals/99999999999999999999999"}) {
    const auto reply = call(app, "GET", past);
    EXPECT_EQ(reply.status, 500U) << past;
    EXPECT_EQ(reply.body, "Internal Server Error");
  }
  const auto bad = call(app, "GET", "/animals/v1/animals/seven");
  EXPECT_EQ(bad.status, 422U);
  EXPECT_EQ(boost::json::parse(bad.body).at("detail").at(0).at("type"), "type_error.integer");
}

TEST(sim_app, unknown_paths_methods_and_trailing_slashes) {
  sim_app app(quiet_options());
  EXPECT_EQ(call(app, "GET", "/nope").status, 404U);
  EXPECT_EQ(call(app, "GET", "/nope").body, R"({"detail":"Not Found"})");
  EXPECT_EQ(call(app, "GET", "/animals/v1/animals/1/2").status, 404U);
  EXPECT_EQ(call(app, "POST", "/animals/v1/animals").status, 405U);
  EXPECT_EQ(call(app, "GET", "/animals/v1/home").status, 405U);
  EXPECT_EQ(call(app, "DELETE", "/").status, 405U);
  const auto redirect = call(app, "GET", "/animals/v1/animals/?page=2");
  EXPECT_EQ(redirect.status, 307U);
  EXPECT_EQ(redirect.location, "/animals/v1/animals?page=2");
}

TEST(sim_app, home_accepts_up_to_100_and_counts_them) {
  sim_app app(quiet_options(20));
  const auto ok = call(app, "POST", "/animals/v1/home", home_body(app, {0, 1, 2}));
  EXPECT_EQ(ok.status, 200U);
  EXPECT_EQ(ok.body, R"({"message":"Helped 3 find home"})");

  std::string big = "[";
  for (int id = 100; id < 201; ++id) {
    big += big.size() > 1 ? "," : "";
    big += home_item(app.data().animal(id));
  }
  big += "]";
  const auto too_many = call(app, "POST", "/animals/v1/home", big);
  EXPECT_EQ(too_many.status, 400U);
  EXPECT_EQ(too_many.body, R"({"detail":"Sorry, only 100 animals at a time"})");

  const auto wrong =
      call(app, "POST", "/animals/v1/home", R"([{"id":5,"name":"A","friends":"x"}])");
  EXPECT_EQ(wrong.status, 422U);

  const auto r = report(app);
  EXPECT_EQ(r.at("received"), 3);
  EXPECT_EQ(r.at("missing"), 197);
  EXPECT_EQ(r.at("posts"), 3);
  EXPECT_EQ(r.at("posts_failed"), 2);
  EXPECT_EQ(r.at("mismatched"), (boost::json::object{{"name", 0}, {"friends", 0}, {"born_at", 0}}));
  EXPECT_EQ(r.at("first_missing").at(0), 3);
}

TEST(sim_app, verify_mode_fails_the_post_at_a_repeated_id_after_taking_the_earlier_ones) {
  auto o = quiet_options();
  o.verify = true;
  sim_app app(o);
  EXPECT_EQ(call(app, "POST", "/animals/v1/home", home_body(app, {0, 1})).status, 200U);
  EXPECT_EQ(call(app, "POST", "/animals/v1/home", home_body(app, {2, 1, 3})).status, 500U);
  EXPECT_EQ(call(app, "POST", "/animals/v1/home", R"([{"id":77,"name":"A","friends":[]}])").status,
            500U);
  const auto r = report(app);
  EXPECT_EQ(r.at("received"), 3) << "0, 1 and 2; 3 came after the duplicate";
  EXPECT_EQ(r.at("duplicates"), 1);
  EXPECT_EQ(r.at("unexpected"), 1);
  EXPECT_EQ(r.at("first_duplicates"), (boost::json::array{1}));
  EXPECT_EQ(r.at("first_missing").at(0), 3);
  EXPECT_EQ(r.at("posts_failed"), 2);
}

TEST(sim_app, without_verify_duplicates_are_counted_and_accepted) {
  sim_app app(quiet_options());
  EXPECT_EQ(call(app, "POST", "/animals/v1/home", home_body(app, {4, 4})).status, 200U);
  const auto r = report(app);
  EXPECT_EQ(r.at("received"), 1);
  EXPECT_EQ(r.at("duplicates"), 1);
}

TEST(sim_app, mismatched_fields_are_counted_per_field) {
  sim_app app(quiet_options(100));
  // Four animals with a born_at and at least two different friends, one per distortion.
  std::vector<boost::json::object> items;
  for (std::int64_t id = 0; items.size() < 4; ++id) {
    const auto a = app.data().animal(id);
    if (a.born_at_ms && a.friend_count >= 2 && a.friends[0] != a.friends[a.friend_count - 1]) {
      items.push_back(boost::json::parse(home_item(a)).as_object());
    }
  }
  items[1]["name"] = "Not" + std::string(items[1]["name"].as_string());
  auto& friends = items[2]["friends"].as_array();
  std::swap(friends[0], friends[friends.size() - 1]);
  items[3]["born_at"] = nullptr;
  const std::string body =
      "[" + boost::json::serialize(items[0]) + "," + boost::json::serialize(items[1]) + "," +
      boost::json::serialize(items[2]) + "," + boost::json::serialize(items[3]) + "]";
  ASSERT_EQ(call(app, "POST", "/animals/v1/home", body).status, 200U);
  const auto r = report(app);
  EXPECT_EQ(r.at("mismatched"), (boost::json::object{{"name", 1}, {"friends", 1}, {"born_at", 1}}));
  EXPECT_EQ(r.at("received"), 4) << "a mismatched animal is still received";
  EXPECT_EQ(r.at("duplicates"), 0);
}

TEST(sim_app, born_at_is_compared_as_the_exact_instant) {
  sim_app app(quiet_options(100));
  std::int64_t id = 0;
  while (!app.data().animal(id).born_at_ms) {
    ++id;
  }
  const auto a = app.data().animal(id);
  auto item = boost::json::parse(home_item(a)).as_object();
  const std::string utc(item["born_at"].as_string());  // ...THH:MM:SS.mmmZ
  // The same instant at +00:00, and at +01:00 (hour + 1), then one millisecond off.
  item["born_at"] = utc.substr(0, utc.size() - 1) + "+00:00";
  ASSERT_EQ(call(app, "POST", "/animals/v1/home", "[" + boost::json::serialize(item) + "]").status,
            200U);
  EXPECT_EQ(report(app).at("mismatched").at("born_at"), 0);
  const auto ms = utc.substr(utc.size() - 4, 3);
  auto off_by_one = utc;
  off_by_one[utc.size() - 2] = ms[2] == '9' ? '8' : static_cast<char>(ms[2] + 1);
  item["born_at"] = off_by_one;
  ASSERT_EQ(call(app, "POST", "/animals/v1/home", "[" + boost::json::serialize(item) + "]").status,
            200U);
  EXPECT_EQ(report(app).at("mismatched").at("born_at"), 1);
}

TEST(sim_app, reset_clears_the_received_state) {
  sim_app app(quiet_options());
  ASSERT_EQ(call(app, "POST", "/animals/v1/home", home_body(app, {0, 0})).status, 200U);
  EXPECT_EQ(call(app, "POST", "/sim/reset").status, 200U);
  EXPECT_EQ(call(app, "GET", "/sim/reset").status, 405U);
  const auto r = report(app);
  EXPECT_EQ(r.at("received"), 0);
  EXPECT_EQ(r.at("duplicates"), 0);
  EXPECT_EQ(r.at("posts"), 0);
  EXPECT_EQ(r.at("missing"), 30);
}

TEST(sim_app, chaos_answers_early_or_pauses_and_no_post_pause_spares_posts) {
  auto o = quiet_options();
  o.chaos.chaos_percent = 100;
  o.chaos.pause_min_seconds = 1;
  o.chaos.pause_max_seconds = 1;
  o.no_post_pause = true;
  sim_app app(o);
  int errors = 0;
  int pauses = 0;
  for (int i = 0; i < 200; ++i) {
    const bool post = i % 2 == 1;
    const auto a =
        app.admit(post ? "POST" : "GET", post ? "/animals/v1/home" : "/animals/v1/animals/1");
    if (a.early) {
      ++errors;
      EXPECT_EQ(a.early->body, "Sorry!");
      EXPECT_TRUE(a.early->status == 500 || a.early->status == 502 || a.early->status == 503 ||
                  a.early->status == 504);
      EXPECT_EQ(a.pause.count(), 0);
    } else {
      ASSERT_FALSE(post && a.pause.count() > 0) << "a POST paused";
      if (!post) {
        EXPECT_EQ(a.pause, std::chrono::seconds(1)) << "a GET without a 5xx pauses";
        ++pauses;
      }
    }
  }
  const auto r = report(app);
  EXPECT_EQ(r.at("chaos").at("errors"), errors);
  EXPECT_EQ(r.at("chaos").at("pauses"), pauses);
  EXPECT_GT(errors, 60);
  EXPECT_GT(pauses, 30);
}

TEST(sim_app, faults_apply_to_listing_and_detail_gets_and_are_counted) {
  auto o = quiet_options();
  o.chaos.fault_percent[static_cast<std::size_t>(sim_fault::html_error) - 1] = 100;
  sim_app app(o);
  const auto detail = call(app, "GET", "/animals/v1/animals/1");
  EXPECT_EQ(detail.status, 502U);
  EXPECT_EQ(detail.content_type, "text/html");
  EXPECT_EQ(call(app, "GET", "/animals/v1/animals?page=1").status, 502U);
  EXPECT_EQ(call(app, "GET", "/").status, 200U);
  EXPECT_EQ(call(app, "GET", "/animals/v1/animals/77").status, 500U) << "errors stay errors";
  EXPECT_EQ(report(app).at("faults").at("html_errors"), 2);

  auto m = quiet_options();
  m.chaos.fault_percent[static_cast<std::size_t>(sim_fault::malformed_json) - 1] = 100;
  sim_app malformed(m);
  for (int i = 0; i < 20; ++i) {
    const auto reply = call(malformed, "GET", "/animals/v1/animals/" + std::to_string(i));
    error_code ec;
    boost::json::parse(reply.body, ec);
    EXPECT_TRUE(ec) << reply.body;
    EXPECT_FALSE(reply.body.empty());
  }

  auto b = quiet_options();
  b.chaos.fault_percent[static_cast<std::size_t>(sim_fault::big_body) - 1] = 100;
  sim_app big(b);
  const auto big_reply = call(big, "GET", "/animals/v1/animals/3");
  EXPECT_EQ(big_reply.body.size(), 1024U * 1024U);
  EXPECT_EQ(boost::json::parse(big_reply.body).at("id"), 3);
}

TEST(sim_app, the_report_counts_only_listed_ids_as_missing_when_pages_repeat) {
  auto o = quiet_options(50);
  o.repeat_ids_percent = 40;
  o.verify = true;
  sim_app app(o);
  const auto unlisted = app.data().total() - app.data().listed_total();
  ASSERT_GT(unlisted, 0);
  auto r = report(app);
  EXPECT_EQ(r.at("listed").to_number<std::int64_t>(), app.data().listed_total());
  EXPECT_EQ(r.at("missing").to_number<std::int64_t>(), app.data().listed_total());
  // Post every listed id once, in POSTs of at most 100.
  std::vector<std::int64_t> ids;
  for (std::int64_t id = 0; id < app.data().total(); ++id) {
    if (app.data().listed(id))
      ids.push_back(id);
  }
  for (std::size_t i = 0; i < ids.size(); i += 100) {
    std::string body = "[";
    for (std::size_t j = i; j < std::min(ids.size(), i + 100); ++j) {
      body += body.size() > 1 ? "," : "";
      body += home_item(app.data().animal(ids[j]));
    }
    ASSERT_EQ(call(app, "POST", "/animals/v1/home", body + "]").status, 200U);
  }
  r = report(app);
  EXPECT_EQ(r.at("missing").to_number<std::int64_t>(), 0);
  EXPECT_EQ(r.at("duplicates").to_number<std::int64_t>(), 0);
  EXPECT_TRUE(r.at("first_missing").as_array().empty());
}

TEST(sim_app, post_delay_pauses_every_post_to_home_and_nothing_else) {
  auto o = quiet_options();
  o.post_delay = std::chrono::milliseconds(1500);
  sim_app app(o);
  EXPECT_EQ(app.admit("POST", "/animals/v1/home").pause, std::chrono::milliseconds(1500));
  EXPECT_EQ(report(app).at("posts_admitted").to_number<int>(), 1);
  EXPECT_EQ(app.admit("GET", "/animals/v1/animals?page=1").pause.count(), 0);
  EXPECT_EQ(app.admit("GET", "/animals/v1/animals/3").pause.count(), 0);
}

}  // namespace
}  // namespace etl
