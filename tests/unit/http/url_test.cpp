#include "etl/http/url.hpp"

#include <gtest/gtest.h>

#include "etl/core/error.hpp"

namespace etl {
namespace {

url parsed(std::string_view text) {
  std::string why;
  auto r = parse_url(text, &why);
  EXPECT_TRUE(r.has_value()) << text << ": " << why;
  return r.has_value() ? *r : url{};
}

// Asserts that `text` is rejected with errc::invalid_url and a reason containing `reason_part`.
void expect_bad_url(std::string_view text, std::string_view reason_part) {
  std::string why;
  auto r = parse_url(text, &why);
  ASSERT_FALSE(r.has_value()) << "accepted: " << text;
  EXPECT_EQ(r.error(), errc::invalid_url) << text;
  EXPECT_NE(why.find(reason_part), std::string::npos)
      << text << ": reason '" << why << "' lacks '" << reason_part << "'";
}

void expect_bad_address(std::string_view text, std::string_view reason_part) {
  std::string why;
  auto r = parse_host_port(text, &why);
  ASSERT_FALSE(r.has_value()) << "accepted: " << text;
  EXPECT_EQ(r.error(), errc::invalid_url) << text;
  EXPECT_NE(why.find(reason_part), std::string::npos)
      << text << ": reason '" << why << "' lacks '" << reason_part << "'";
}

TEST(parse_url, http_with_port_and_path) {
  const url u = parsed("http://127.0.0.1:3123/animals/v1/home");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 3123);
  EXPECT_EQ(u.target, "/animals/v1/home");
  EXPECT_EQ(u.origin(), "http://127.0.0.1:3123");
  EXPECT_TRUE(u.user.empty());
  EXPECT_TRUE(u.password.empty());
}

TEST(parse_url, default_ports_per_scheme) {
  EXPECT_EQ(parsed("http://example.com").port, 80);
  EXPECT_EQ(parsed("redis://127.0.0.1/0").port, 6379);
  EXPECT_EQ(parsed("postgresql://etl@127.0.0.1/etl").port, 5432);
  EXPECT_EQ(parsed("postgres://db/etl").port, 5432);
}

TEST(parse_url, empty_path_becomes_slash) {
  EXPECT_EQ(parsed("http://localhost:3123").target, "/");
  EXPECT_EQ(parsed("http://localhost:3123?page=2").target, "/?page=2");
}

TEST(parse_url, query_kept_and_fragment_dropped) {
  const url u = parsed("http://h/animals/v1/animals?page=3#top");
  EXPECT_EQ(u.target, "/animals/v1/animals?page=3");
}

TEST(parse_url, scheme_is_case_insensitive) {
  const url u = parsed("HTTP://Host:81/x");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "Host");
  EXPECT_EQ(u.origin(), "http://Host:81");
}

TEST(parse_url, user_and_password_are_percent_decoded) {
  const url u = parsed("postgresql://etl:p%40ss%3Aword@127.0.0.1:5433/etl?sslmode=disable");
  EXPECT_EQ(u.scheme, "postgresql");
  EXPECT_EQ(u.user, "etl");
  EXPECT_EQ(u.password, "p@ss:word");
  EXPECT_EQ(u.port, 5433);
  EXPECT_EQ(u.target, "/etl?sslmode=disable");
}

TEST(parse_url, user_without_password) {
  const url u = parsed("postgresql://etl@127.0.0.1:5432/etl");
  EXPECT_EQ(u.user, "etl");
  EXPECT_TRUE(u.password.empty());
}

TEST(parse_url, redacted_hides_the_password) {
  const url u = parsed("redis://user:secret@10.0.0.1:6380/2");
  EXPECT_EQ(u.redacted(), "redis://user:***@10.0.0.1:6380/2");
  EXPECT_EQ(parsed("http://h:1/a").redacted(), "http://h:1/a");
}

TEST(parse_url, ipv6_literal_in_brackets) {
  const url u = parsed("http://[::1]:8000/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8000);
  EXPECT_EQ(u.target, "/x");
  EXPECT_EQ(u.origin(), "http://[::1]:8000");
  EXPECT_EQ(parsed("http://[2001:db8::7]").port, 80);
}

TEST(parse_url, port_bounds) {
  EXPECT_EQ(parsed("http://h:1").port, 1);
  EXPECT_EQ(parsed("http://h:65535").port, 65535);
  expect_bad_url("http://h:65536", "out of range");
  expect_bad_url("http://h:0", "out of range");
  expect_bad_url("http://h:99999999999999999999", "out of range");
}

TEST(parse_url, rejects_bad_ports) {
  expect_bad_url("http://h:abc/", "not a number");
  expect_bad_url("http://h:-1/", "not a number");
  expect_bad_url("http://h:/", "empty port");
  expect_bad_url("http://h:80x/", "not a number");
}

TEST(parse_url, rejects_missing_scheme) {
  expect_bad_url("127.0.0.1:3123", "no scheme");
  expect_bad_url("//127.0.0.1:3123/", "no scheme");
  expect_bad_url("://h/", "no scheme");
  expect_bad_url("1http://h/", "no scheme");
}

TEST(parse_url, rejects_unsupported_schemes) {
  expect_bad_url("https://example.com/", "no TLS");
  expect_bad_url("ftp://example.com/", "unsupported scheme 'ftp'");
  expect_bad_url("mysql://db/etl", "unsupported scheme");
}

TEST(parse_url, rejects_empty_host) {
  expect_bad_url("http:///path", "empty host");
  expect_bad_url("http://:80/", "empty host");
  expect_bad_url("postgresql://etl@/etl", "empty host");
}

TEST(parse_url, rejects_spaces_and_control_characters) {
  expect_bad_url("http://h/a b", "space");
  expect_bad_url(" http://h/", "space");
  expect_bad_url("http://h/\n", "control");
  expect_bad_url("http://h/caf\xc3\xa9", "non-ASCII");
}

TEST(parse_url, rejects_malformed_parts) {
  expect_bad_url("", "empty URL");
  expect_bad_url("http://h/%zz", "percent-escape");
  expect_bad_url("http://h/%4", "percent-escape");
  expect_bad_url("http://h/{x}", "must be percent-encoded");
  expect_bad_url("http://us@er:pw@h/", "must be percent-encoded");
  expect_bad_url("http://ho$t/", "not allowed in a host");
  expect_bad_url("http://h]:80/", "not allowed in a host");
}

TEST(parse_url, rejects_bad_ipv6) {
  expect_bad_url("http://::1:8000/", "brackets");
  expect_bad_url("http://[::1:8000/", "closing ']'");
  expect_bad_url("http://[zz::1]:8000/", "not an IPv6 address");
  expect_bad_url("http://[::1]x/", "after the host");
}

TEST(parse_url, reason_is_optional) {
  auto r = parse_url("nope");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::invalid_url);
}

TEST(parse_host_port, ipv4_and_names) {
  auto a = parse_host_port("127.0.0.1:8000");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8000);
  auto b = parse_host_port("localhost:9");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->first, "localhost");
  EXPECT_EQ(b->second, 9);
}

TEST(parse_host_port, ipv6_in_brackets) {
  auto a = parse_host_port("[::1]:8000");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "::1");
  EXPECT_EQ(a->second, 8000);
}

TEST(parse_host_port, empty_host_means_every_ipv4_interface) {
  auto a = parse_host_port(":8000");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "0.0.0.0");
  EXPECT_EQ(a->second, 8000);
}

TEST(parse_host_port, port_zero_lets_the_system_choose) {
  auto a = parse_host_port("127.0.0.1:0");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->second, 0);
}

TEST(parse_host_port, rejects_malformed_addresses) {
  expect_bad_address("", "empty address");
  expect_bad_address("127.0.0.1", "missing port");
  expect_bad_address("127.0.0.1:", "empty port");
  expect_bad_address("127.0.0.1:http", "not a number");
  expect_bad_address("127.0.0.1:65536", "out of range");
  expect_bad_address("::1:8000", "brackets");
  expect_bad_address("[::1]", "missing port");
  expect_bad_address("[nope]:80", "not an IPv6 address");
  expect_bad_address("127.0.0.1 :8000", "space");
  expect_bad_address("http://127.0.0.1:8000", "not a URL");
  expect_bad_address("host/x:80", "not allowed in a host");
}

TEST(percent_encode, keeps_letters_digits_and_the_safe_set_and_escapes_the_rest) {
  EXPECT_EQ(percent_encode("a-b._~c", "-._~"), "a-b._~c");
  EXPECT_EQ(percent_encode("a b&c=d/é", "-._~"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(percent_encode("2024-01-01T00:00:00Z", "._-"), "2024-01-01T00%3A00%3A00Z");
  EXPECT_EQ(percent_encode("", "-"), "");
}

TEST(redact_query, hides_the_values_of_the_named_parameters_only) {
  const std::vector<std::string> names{"user_key"};
  EXPECT_EQ(redact_query("/x?user_key=abc&a=1", names), "/x?user_key=***&a=1");
  EXPECT_EQ(redact_query("/x?a=1&user_key=abc", names), "/x?a=1&user_key=***");
  EXPECT_EQ(redact_query("/x?a=1&user_key=abc&user_key=def", names),
            "/x?a=1&user_key=***&user_key=***");
  // A parameter that only starts like it, or holds the name in its value, is not a secret.
  EXPECT_EQ(redact_query("/x?user_keys=1&b=user_key", names), "/x?user_keys=1&b=user_key");
  // A name without a value, an empty query, no query, no names.
  EXPECT_EQ(redact_query("/x?user_key", names), "/x?user_key=***");
  EXPECT_EQ(redact_query("/x?", names), "/x?");
  EXPECT_EQ(redact_query("/x/user_key=abc", names), "/x/user_key=abc");
  EXPECT_EQ(redact_query("/x?user_key=abc", {}), "/x?user_key=abc");
  // The name as a query carries it, percent-encoded.
  EXPECT_EQ(redact_query("/x?api%20key=abc", {"api key"}), "/x?api%20key=***");
}

}  // namespace
}  // namespace etl
