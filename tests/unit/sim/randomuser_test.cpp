// randomuser-sim without a network: the digests, the users' per-nationality quirks and the
// API's parameters, quota and outages driven as plain calls.
#include "etl/sim/randomuser.hpp"
#include "etl/sim/digest.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include <boost/json.hpp>

namespace etl {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

constexpr auto today = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7};

TEST(SimDigest, MatchesTheStandardVectors) {
  EXPECT_EQ(sim_md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(sim_sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sim_sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string long_text(1000, 'a');  // several blocks
  EXPECT_EQ(sim_md5_hex(long_text), "cabe45dcc9ae5b66ba86600cca6b8ba8");
  EXPECT_EQ(sim_sha1_hex(long_text), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
  EXPECT_EQ(sim_sha256_hex(long_text),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

std::vector<bj::object> users_of(std::string_view nat, int n, std::string seed = "quirks") {
  randomuser_request request;
  request.seed = std::move(seed);
  request.seed_given = true;
  if (!nat.empty()) {
    request.nats = {std::string(nat)};
  }
  std::vector<bj::object> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(randomuser_user(request, static_cast<std::uint64_t>(i), today));
  }
  return out;
}

TEST(RandomuserData, UsersHaveTheRealKeysInOrder) {
  const auto user = users_of("", 1).front();
  std::vector<std::string_view> keys;
  for (const auto& m : user) {
    keys.push_back(m.key());
  }
  EXPECT_EQ(keys,
            (std::vector<std::string_view>{"gender", "name", "location", "email", "login", "dob",
                                           "registered", "phone", "cell", "id", "picture", "nat"}));
}

TEST(RandomuserData, PostcodeAndIdFollowTheNationality) {
  const std::set<std::string_view> string_postcodes = {"CA", "GB", "NO", "NL"};
  const std::set<std::string_view> null_ids = {"IR", "NZ", "TR", "UA"};
  bool leading_zero = false;
  for (const auto nat : randomuser_nats()) {
    for (const auto& user : users_of(nat, 60)) {
      EXPECT_EQ(user.at("nat").as_string(), nat);
      const auto& postcode = user.at("location").at("postcode");
      if (string_postcodes.contains(nat)) {
        ASSERT_TRUE(postcode.is_string()) << nat;
        leading_zero = leading_zero || (nat == "NO" && postcode.as_string().starts_with("0"));
      } else {
        ASSERT_TRUE(postcode.is_int64()) << nat;
        const auto v = postcode.as_int64();
        const auto [lo, hi] = nat == "AU"   ? std::pair{200, 9999}
                              : nat == "CH" ? std::pair{1000, 9999}
                                            : std::pair{10000, 99999};
        EXPECT_TRUE(v >= lo && v <= hi) << nat << " " << v;
      }
      const auto& id = user.at("id").as_object();
      if (null_ids.contains(nat)) {
        EXPECT_EQ(id.at("name"), "");
        EXPECT_TRUE(id.at("value").is_null());
      } else {
        EXPECT_FALSE(id.at("name").as_string().empty()) << nat;
        EXPECT_TRUE(id.at("value").is_string()) << nat;
      }
    }
  }
  EXPECT_TRUE(leading_zero) << "NO postcodes keep a leading zero as strings";
  const auto ca = users_of("CA", 1).front();
  EXPECT_TRUE(std::regex_match(std::string(ca.at("location").at("postcode").as_string()),
                               std::regex("[A-Z][0-9][A-Z] [0-9][A-Z][0-9]")));
}

TEST(RandomuserData, TypeQuirksAndFormats) {
  const std::regex offset("[+-]?[0-9]{1,2}:[0-9]{2}");
  const std::regex coordinate("-?[0-9]{1,3}\\.[0-9]{4}");
  const std::regex email("[a-z0-9]+\\.[a-z0-9]+@example\\.com");
  const std::regex username("[a-z]+[0-9]{3}");
  int trailing_space = 0;
  int non_ascii_names = 0;
  std::map<std::string, int> lettered_phones;
  std::set<std::string> offsets;
  for (const auto& user : users_of("", 2000)) {
    const auto& location = user.at("location").as_object();
    const auto& tz = location.at("timezone").at("offset").as_string();
    EXPECT_TRUE(std::regex_match(std::string(tz), offset)) << tz;
    EXPECT_FALSE(tz.starts_with("+0") || tz.starts_with("-0")) << "offsets are unpadded: " << tz;
    offsets.emplace(tz);
    for (std::string_view key : {"latitude", "longitude"}) {
      const auto& c = location.at("coordinates").at(key);
      ASSERT_TRUE(c.is_string());
      EXPECT_TRUE(std::regex_match(std::string(c.as_string()), coordinate)) << c;
    }
    const auto& street = location.at("street").as_object();
    EXPECT_TRUE(street.at("number").as_int64() >= 1 && street.at("number").as_int64() <= 9999);
    trailing_space += street.at("name").as_string().ends_with(" ") ? 1 : 0;
    const std::string name = bj::serialize(user.at("name"));
    const std::string first(user.at("name").at("first").as_string());
    non_ascii_names += std::any_of(first.begin(), first.end(),
                                   [](char c) { return static_cast<unsigned char>(c) > 127; });
    EXPECT_TRUE(std::regex_match(std::string(user.at("email").as_string()), email))
        << user.at("email");
    const auto& login = user.at("login").as_object();
    EXPECT_TRUE(std::regex_match(std::string(login.at("username").as_string()), username));
    EXPECT_EQ(login.at("salt").as_string().size(), 8U);
    const std::string salted =
        std::string(login.at("password").as_string()) + std::string(login.at("salt").as_string());
    EXPECT_EQ(login.at("md5").as_string(), sim_md5_hex(salted));
    EXPECT_EQ(login.at("sha256").as_string(), sim_sha256_hex(salted));
    const std::string nat(user.at("nat").as_string());
    for (std::string_view key : {"phone", "cell"}) {
      const std::string phone(user.at(key).as_string());
      lettered_phones[nat] += std::any_of(phone.begin(), phone.end(), ::isalpha) ? 1 : 0;
    }
    const auto& title = user.at("name").at("title");
    if (nat == "CH") {
      EXPECT_TRUE(title == "Monsieur" || title == "Madame" || title == "Mademoiselle") << title;
    } else if (user.at("gender") == "male") {
      EXPECT_EQ(title, "Mr");
    }
    const auto& dob = user.at("dob").as_object();
    EXPECT_GE(dob.at("date").as_string(), "1944-08-25");
    EXPECT_LE(dob.at("date").as_string(), "2001-05-28T23:59:59.999Z");
    EXPECT_GE(dob.at("age").as_int64(), 25);
  }
  EXPECT_GT(trailing_space, 0);
  EXPECT_GT(non_ascii_names, 100);
  EXPECT_GT(lettered_phones["CA"], 0);
  EXPECT_GT(lettered_phones["UA"], 0);
  EXPECT_EQ(lettered_phones["US"], 0);
  EXPECT_GE(offsets.size(), 30U);
  const auto ir = users_of("IR", 5);
  for (const auto& user : ir) {
    EXPECT_TRUE(std::regex_match(std::string(user.at("email").as_string()), email));
  }
}

TEST(RandomuserData, SameSeedAndPageSameUsersWhateverTheCount) {
  const auto ten = users_of("", 10, "abc");
  const auto three = users_of("", 3, "abc");
  EXPECT_TRUE(std::equal(three.begin(), three.end(), ten.begin()));
  EXPECT_NE(users_of("", 1, "abd").front(), ten.front());
}

// --- the routes, as plain calls ---

sim_reply call(randomuser_sim& app, std::string_view target, std::string_view client = "10.0.0.1") {
  sim_request request{"GET", target, {}, "127.0.0.1", {{"X-Forwarded-For", client}}};
  const auto admission = app.admit(request);
  return admission.early ? *admission.early : app.handle(request, admission);
}

randomuser_options options_of(std::vector<std::string_view> args) {
  std::string why;
  auto o = parse_randomuser_options(args, &why);
  EXPECT_TRUE(o) << why;
  return o ? *o : randomuser_options{};
}

bj::object body_of(const sim_reply& reply) {
  EXPECT_EQ(reply.status, 200U) << reply.body.substr(0, 200);
  return bj::parse(reply.body).as_object();
}

TEST(RandomuserRoutes, ResultsOutsideTheRangeAreOne) {
  randomuser_sim app(options_of({"--seed", "1"}));
  for (std::string_view q : {"0", "5001", "abc", "-3", "2.5"}) {
    const auto body = body_of(call(app, "/api/?results=" + std::string(q)));
    EXPECT_EQ(body.at("results").as_array().size(), 1U) << q;
    EXPECT_EQ(body.at("info").at("results"), 1) << q;
  }
  EXPECT_EQ(body_of(call(app, "/api/?results=5000")).at("results").as_array().size(), 5000U);
}

TEST(RandomuserRoutes, SeedPageInfoAndVersions) {
  randomuser_sim app(options_of({"--seed", "1"}));
  const auto a = body_of(call(app, "/api/1.3/?results=3&seed=xyz"));
  const auto b = body_of(call(app, "/api?seed=xyz&results=7"));
  EXPECT_EQ(a.at("info").at("seed"), "xyz");
  EXPECT_EQ(a.at("info").at("version"), "1.3");
  EXPECT_EQ(b.at("info").at("version"), "1.4");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.at("results").as_array()[i], b.at("results").as_array()[i]);
  }
  const auto page2 = body_of(call(app, "/api/?results=3&seed=xyz&page=2"));
  EXPECT_EQ(page2.at("info").at("page"), 2);
  EXPECT_NE(page2.at("results").as_array()[0], a.at("results").as_array()[0]);
  const auto random = body_of(call(app, "/api/"));
  EXPECT_TRUE(std::regex_match(std::string(random.at("info").at("seed").as_string()),
                               std::regex("[0-9a-f]{16}")));
  EXPECT_EQ(call(app, "/api/1.5/").status, 404U);
  EXPECT_EQ(call(app, "/api/2.0/").status, 404U);
  EXPECT_EQ(call(app, "/users").status, 404U);
}

TEST(RandomuserRoutes, NatIncExcNoinfoCallback) {
  randomuser_sim app(options_of({"--seed", "1"}));
  auto body = body_of(call(app, "/api/?results=50&nat=gb,Fr"));
  std::set<std::string> nats;
  for (const auto& u : body.at("results").as_array()) {
    nats.emplace(u.at("nat").as_string());
  }
  EXPECT_EQ(nats, (std::set<std::string>{"FR", "GB"}));
  body = body_of(call(app, "/api/?results=200&nat=gb,xx"));
  nats.clear();
  for (const auto& u : body.at("results").as_array()) {
    nats.emplace(u.at("nat").as_string());
  }
  EXPECT_GT(nats.size(), 10U) << "one invalid code: random nationalities";
  body = body_of(call(app, "/api/?inc=name,nat,bogus&noinfo"));
  EXPECT_FALSE(body.contains("info"));
  EXPECT_EQ(body.at("results").as_array()[0].as_object().size(), 2U);
  body = body_of(call(app, "/api/?exc=login,id"));
  const auto& user = body.at("results").as_array()[0].as_object();
  EXPECT_EQ(user.size(), 10U);
  EXPECT_FALSE(user.contains("login"));
  const auto jsonp = call(app, "/api/?callback=cb");
  EXPECT_TRUE(jsonp.body.starts_with("cb({"));
  EXPECT_EQ(jsonp.content_type, "text/javascript");
}

TEST(RandomuserRoutes, QuotaRefusesAfterTheCrossingRequestUntilTheWindowTurns) {
  randomuser_sim app(options_of({"--seed", "1"}));
  // Start at the beginning of a 300 s window so that the whole test stays in it.
  const auto into = app.clock().now().time_since_epoch() % std::chrono::milliseconds{300'000};
  app.clock().advance(std::chrono::milliseconds{300'000} - into);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(call(app, "/api/?results=3000").status, 200U) << i;
  }
  EXPECT_EQ(call(app, "/api/?results=3000").status, 200U) << "18000 before it: crosses, served";
  const auto refused = call(app, "/api/?results=1");
  EXPECT_EQ(refused.status, 429U);
  EXPECT_EQ(bj::parse(refused.body).at("error"),
            "Whoa, ease up there cowboy. You've requested 21000 users in the last minute. Help "
            "us keep this service free and spare some bandwidth for other users please :)");
  EXPECT_EQ(call(app, "/api/?results=1", "10.0.0.2").status, 200U) << "per client";
  app.clock().advance(300s);
  EXPECT_EQ(call(app, "/api/?results=1").status, 200U) << "every counter resets together";
  const auto report = bj::parse(call(app, "/sim/report").body).as_object();
  EXPECT_EQ(report.at("users_per_client").at("10.0.0.1"), 21001);
  EXPECT_EQ(report.at("served").at("users").at("total"), 21002);
}

TEST(RandomuserRoutes, OlderDeploymentStatusAndOutages) {
  randomuser_sim old(options_of({"--seed", "1", "--quota", "5", "--quota-status", "503"}));
  EXPECT_EQ(call(old, "/api/?results=5").status, 200U);
  EXPECT_EQ(call(old, "/api/?results=5").status, 503U);
  randomuser_sim down(options_of({"--seed", "1", "--outage-percent", "100"}));
  const auto reply = call(down, "/api/");
  EXPECT_EQ(reply.status, 500U);
  EXPECT_TRUE(bj::parse(reply.body)
                  .at("error")
                  .as_string()
                  .starts_with("Uh oh, something has "
                               "gone wrong."));
  std::string why;
  std::vector<std::string_view> bad = {"--quota-status", "500"};
  EXPECT_FALSE(parse_randomuser_options(bad, &why));
}

}  // namespace
}  // namespace etl
