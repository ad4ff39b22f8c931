#include "etl/config/option_types.hpp"

#include <gtest/gtest.h>

namespace etl {
namespace {

using namespace std::chrono_literals;

// Parses one value of a single-option set from the environment and returns the error message,
// or "" when the value was accepted.
std::string env_error(option_spec spec, const std::string& value) {
  option_set set;
  const std::string name = spec.name;
  set.add(std::move(spec));
  auto r = set.parse({}, [&](const std::string& n) -> std::optional<std::string> {
    return n == name ? std::optional<std::string>(value) : std::nullopt;
  });
  return r ? std::string() : r.error().message;
}

template <class T>
T env_value(option_spec spec, const std::string& value) {
  option_set set;
  const std::string name = spec.name;
  set.add(std::move(spec));
  auto r = set.parse({}, [&](const std::string& n) -> std::optional<std::string> {
    return n == name ? std::optional<std::string>(value) : std::nullopt;
  });
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? r->template get<T>(name) : T{};
}

TEST(parse_bool, accepts_the_documented_words_in_any_case) {
  for (const char* yes : {"true", "TRUE", "True", "1", "yes", "YES"}) {
    EXPECT_EQ(parse_bool(yes), true) << yes;
  }
  for (const char* no : {"false", "False", "0", "no", "NO"}) {
    EXPECT_EQ(parse_bool(no), false) << no;
  }
  for (const char* bad : {"", "on", "off", "y", "2", " true", "truex"}) {
    EXPECT_FALSE(parse_bool(bad).has_value()) << bad;
  }
}

TEST(parse_integer, whole_text_must_be_a_decimal_integer) {
  EXPECT_EQ(parse_integer("64"), 64);
  EXPECT_EQ(parse_integer("-3"), -3);
  EXPECT_EQ(parse_integer("0"), 0);
  for (const char* bad :
       {"", "x", "12x", " 12", "12 ", "+5", "1.5", "0x10", "99999999999999999999"}) {
    EXPECT_FALSE(parse_integer(bad).has_value()) << bad;
  }
}

TEST(parse_duration, units_ms_s_m_h) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("20s"), 20s);
  EXPECT_EQ(parse_duration("2m"), 2min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("0"), 0ms);
  EXPECT_EQ(parse_duration("0s"), 0ms);
}

TEST(parse_duration, rejects_bare_numbers_and_malformed_text) {
  for (const char* bad : {"", "20", "250", "s", "ms", "-5s", "1.5s", "20 s", " 20s", "20S", "20sec",
                          "2d", "99999999999999999999h", "9223372036854775807h"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(format_duration, largest_exact_unit) {
  EXPECT_EQ(format_duration(20s), "20s");
  EXPECT_EQ(format_duration(50ms), "50ms");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(0ms), "0ms");
  for (const milliseconds d : std::vector<milliseconds>{20s, 50ms, 1500ms, 2min, 1h, 0ms}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d);
  }
}

TEST(parse_number, finite_decimals_only) {
  EXPECT_EQ(parse_number("0.1"), 0.1);
  EXPECT_EQ(parse_number("1"), 1.0);
  EXPECT_EQ(parse_number("-2.5"), -2.5);
  for (const char* bad : {"", "x", "0.1x", "inf", "nan", "+1", " 1"}) {
    EXPECT_FALSE(parse_number(bad).has_value()) << bad;
  }
}

TEST(int_option, range_error_names_the_variable_and_value) {
  auto spec = int_option("ETL_WORKER_PROCESSES", 2, 1, 256, "workers");
  EXPECT_EQ(env_error(spec, "x"),
            "ETL_WORKER_PROCESSES: must be an integer from 1 to 256, got 'x'");
  EXPECT_EQ(env_error(spec, "0"),
            "ETL_WORKER_PROCESSES: must be an integer from 1 to 256, got '0'");
  EXPECT_EQ(env_error(spec, "257"),
            "ETL_WORKER_PROCESSES: must be an integer from 1 to 256, got '257'");
  EXPECT_EQ(env_value<std::int64_t>(spec, "256"), 256);
  EXPECT_EQ(env_value<std::int64_t>(spec, "1"), 1);
}

TEST(bool_option, error_lists_the_accepted_words) {
  auto spec = bool_option("ETL_HEDGE", true, "hedge");
  EXPECT_EQ(env_error(spec, "maybe"),
            "ETL_HEDGE: must be true or false (also accepted: 1/0, yes/no), got 'maybe'");
  EXPECT_EQ(env_value<bool>(spec, "no"), false);
  EXPECT_EQ(env_value<bool>(spec, "1"), true);
}

TEST(duration_option, errors_name_the_option_units_and_range) {
  auto spec = duration_option("ETL_GET_TIMEOUT", 10s, 1ms, 10min, "get");
  const std::string bare = env_error(spec, "10");
  EXPECT_EQ(bare,
            "ETL_GET_TIMEOUT: must be a duration with a unit (ms, s, m or h) from 1ms to 10m, "
            "e.g. '250ms' or '20s', got '10'");
  EXPECT_EQ(env_error(spec, "11m"),
            "ETL_GET_TIMEOUT: must be a duration from 1ms to 10m, got '11m'");
  EXPECT_EQ(env_error(spec, "0"), "ETL_GET_TIMEOUT: must be a duration from 1ms to 10m, got '0'");
  EXPECT_EQ(env_value<milliseconds>(spec, "1500ms"), 1500ms);
}

TEST(duration_option, may_be_unset_by_default) {
  option_set set;
  set.add(duration_option("ETL_HEDGE_DELAY", std::nullopt, 1ms, 1min, "hedge delay"));
  auto r = set.parse({}, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->find<milliseconds>("ETL_HEDGE_DELAY").has_value());
  EXPECT_TRUE(r->declared("ETL_HEDGE_DELAY"));
}

TEST(number_option, range) {
  auto spec = number_option("ETL_HEDGE_BUDGET", 0.1, 0.0, 1.0, "budget");
  EXPECT_EQ(env_error(spec, "1.5"), "ETL_HEDGE_BUDGET: must be a number from 0 to 1, got '1.5'");
  EXPECT_EQ(env_error(spec, "lots"), "ETL_HEDGE_BUDGET: must be a number from 0 to 1, got 'lots'");
  EXPECT_DOUBLE_EQ(env_value<double>(spec, "0.25"), 0.25);
}

TEST(choice_option, error_lists_the_choices) {
  auto spec = choice_option("ETL_LOG_FORMAT", "text", {"text", "json"}, "format");
  EXPECT_EQ(env_error(spec, "xml"), "ETL_LOG_FORMAT: must be one of text, json, got 'xml'");
  EXPECT_EQ(env_error(spec, "JSON"), "ETL_LOG_FORMAT: must be one of text, json, got 'JSON'");
  EXPECT_EQ(env_value<std::string>(spec, "json"), "json");
}

TEST(string_option, rejects_nothing_but_keeps_the_text) {
  auto spec = string_option("ETL_AUDIT_DIR", "./audit", "dir");
  EXPECT_EQ(env_value<std::string>(spec, "/var/audit dir"), "/var/audit dir");
}

TEST(secret_option, error_does_not_show_the_value) {
  auto spec = secret_option("ETL_API_TOKEN", "token");
  const std::string err = env_error(spec, "abc def");
  EXPECT_EQ(err,
            "ETL_API_TOKEN: must be printable ASCII without spaces, got a value that is not "
            "shown");
  EXPECT_EQ(err.find("abc"), std::string::npos);
  EXPECT_EQ(env_value<std::string>(spec, "s3cr3t"), "s3cr3t");
}

TEST(url_option, validates_with_parse_url_and_checks_the_scheme) {
  auto spec = url_option("ETL_SOURCE_URL", "http://127.0.0.1:3123", {"http"}, "source");
  EXPECT_EQ(env_error(spec, "127.0.0.1:3123"),
            "ETL_SOURCE_URL: is not a valid URL (no scheme: expected an absolute URL such as "
            "http://host:port/path), got '127.0.0.1:3123'");
  EXPECT_NE(env_error(spec, "https://example.com").find("no TLS"), std::string::npos);
  EXPECT_NE(env_error(spec, "http://h:70000").find("out of range"), std::string::npos);
  EXPECT_EQ(env_error(spec, "redis://h/0"),
            "ETL_SOURCE_URL: must use the http scheme, not redis, got 'redis://h/0'");
  EXPECT_EQ(env_value<std::string>(spec, "http://[::1]:3123"), "http://[::1]:3123");

  auto db = url_option("ETL_DATABASE_URL", std::nullopt, {"postgresql", "postgres"}, "db");
  EXPECT_EQ(env_error(db, "postgres://etl@db/etl"), "");
  EXPECT_EQ(env_error(db, "http://db/etl"),
            "ETL_DATABASE_URL: must use the postgresql or postgres scheme, not http, got "
            "'http://db/etl'");
}

TEST(address_option, validates_with_parse_host_port) {
  auto spec = address_option("ETL_LISTEN", "127.0.0.1:8000", "listen");
  EXPECT_EQ(env_error(spec, "127.0.0.1"),
            "ETL_LISTEN: is not a host:port address (missing port: expected host:port such as "
            "127.0.0.1:8000), got '127.0.0.1'");
  EXPECT_EQ(env_error(spec, "[::1]:8000"), "");
  EXPECT_EQ(env_error(spec, ":8000"), "");
}

TEST(option_spec, hints_and_defaults_for_help) {
  EXPECT_EQ(int_option("ETL_X", 2, 1, 256, "h").value_hint, "<1..256>");
  EXPECT_EQ(duration_option("ETL_X", 20s, 0ms, 1h, "h").default_text, "20s");
  EXPECT_FALSE(duration_option("ETL_X", std::nullopt, 0ms, 1h, "h").default_text.has_value());
  EXPECT_EQ(number_option("ETL_X", 0.1, 0, 1, "h").default_text, "0.1");
  EXPECT_EQ(choice_option("ETL_X", "skip", {"skip", "resend"}, "h").value_hint, "skip|resend");
  EXPECT_TRUE(bool_option("ETL_X", true, "h").is_bool);
  EXPECT_TRUE(secret_option("ETL_X", "h").secret);
}

}  // namespace
}  // namespace etl
