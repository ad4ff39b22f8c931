#include "etl/server/api_auth.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace etl {
namespace {

server_request request(std::string method, std::string path, std::string authorization = {}) {
  server_request r;
  r.method = std::move(method);
  r.path = path;
  r.target = std::move(path);
  if (!authorization.empty())
    r.headers.emplace_back("authorization", std::move(authorization));
  return r;
}

std::string header_of(const server_reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name)
      return v;
  }
  return {};
}

TEST(constant_time_equal, compares_whole_strings) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3creT"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cre"));
  EXPECT_FALSE(constant_time_equal("s3cre", "s3cret"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  // A prefix padded with NUL bytes is not equal either.
  EXPECT_FALSE(constant_time_equal(std::string_view("ab\0", 3), "ab"));
}

TEST(api_auth, without_a_token_everything_passes) {
  const api_auth auth(std::nullopt);
  EXPECT_FALSE(auth.enabled());
  EXPECT_FALSE(auth.check(request("POST", "/extractor/trigger-task"), "/extractor/trigger-task"));
}

TEST(api_auth, with_a_token_only_the_right_bearer_passes) {
  const api_auth auth(std::string("t0ken"));
  const std::string path = "/extractor/tasks/x";
  EXPECT_FALSE(auth.check(request("GET", path, "Bearer t0ken"), path));
  EXPECT_FALSE(auth.check(request("GET", path, "bearer t0ken"), path)) << "the scheme is any case";

  auto missing = auth.check(request("GET", path), path);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401u);
  EXPECT_EQ(header_of(*missing, "WWW-Authenticate"), "Bearer");
  const auto body = boost::json::parse(missing->body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "unauthorized");
  EXPECT_NE(std::string(body.at("detail").as_string()).find("Authorization: Bearer"),
            std::string::npos);

  for (const auto* bad : {"Bearer t0ke", "Bearer t0kenx", "Basic dDBrZW4=", "Bearer", "t0ken"}) {
    auto denied = auth.check(request("GET", path, bad), path);
    ASSERT_TRUE(denied) << bad;
    EXPECT_EQ(denied->status, 401u) << bad;
    EXPECT_EQ(denied->body.find("t0ken"), std::string::npos) << "never echo the token";
  }
  auto wrong = auth.check(request("GET", path, "Bearer nope"), path);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(header_of(*wrong, "WWW-Authenticate"), "Bearer error=\"invalid_token\"");
}

TEST(api_auth, health_readiness_metrics_and_the_page_are_open_to_get) {
  const api_auth auth(std::string("t0ken"));
  for (const auto* open :
       {"/healthz", "/readyz", "/metrics", "/", "/dashboard/app.js", "/dashboard/style.css"}) {
    EXPECT_FALSE(auth.check(request("GET", open), open)) << open;
    EXPECT_TRUE(auth.check(request("POST", open), open)) << open << ": only GET is open";
  }
  EXPECT_TRUE(auth.check(request("GET", "/extractor/tasks"), "/extractor/tasks"));
  EXPECT_TRUE(auth.check(request("GET", "/dashboard/other.js"), "/dashboard/other.js"));
}

}  // namespace
}  // namespace etl
