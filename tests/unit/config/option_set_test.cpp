#include "etl/config/option_set.hpp"

#include <map>

#include <gtest/gtest.h>

#include "etl/config/option_types.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;

// An environment the test controls.
env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

option_set example_set() {
  option_set set;
  set.add(int_option("ETL_WORKER_PROCESSES", 2, 1, 256, "worker processes"));
  set.add(duration_option("ETL_GET_TIMEOUT", 10s, 1ms, 10min, "one GET attempt"));
  set.add(bool_option("ETL_HEDGE", true, "hedge slow GETs"));
  set.add(choice_option("ETL_LOG_FORMAT", "text", {"text", "json"}, "log line format"));
  set.add(duration_option("ETL_HEDGE_DELAY", std::nullopt, 1ms, 1min, "fixed hedge delay"));
  set.add(secret_option("ETL_API_TOKEN", "bearer token"));
  return set;
}

option_error expect_error(const option_set& set, const std::vector<std::string>& args,
                          const env_lookup& env = {}) {
  auto r = set.parse(args, env);
  EXPECT_FALSE(r.has_value()) << "parse accepted the arguments";
  return r ? option_error{} : r.error();
}

TEST(flag_name, derived_from_the_variable) {
  EXPECT_EQ(flag_name("ETL_WORKER_PROCESSES"), "--worker-processes");
  EXPECT_EQ(flag_name("ETL_HEDGE"), "--hedge");
  EXPECT_EQ(flag_name("MIGRATE_ONLY"), "--migrate-only");
}

TEST(option_set, defaults_when_nothing_is_given) {
  auto r = example_set().parse({}, env_of({}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::int64_t>("ETL_WORKER_PROCESSES"), 2);
  EXPECT_EQ(r->get<milliseconds>("ETL_GET_TIMEOUT"), 10s);
  EXPECT_TRUE(r->get<bool>("ETL_HEDGE"));
  EXPECT_EQ(r->get<std::string>("ETL_LOG_FORMAT"), "text");
  EXPECT_FALSE(r->find<milliseconds>("ETL_HEDGE_DELAY").has_value());
  EXPECT_FALSE(r->find<std::string>("ETL_API_TOKEN").has_value());
  EXPECT_EQ(r->source("ETL_WORKER_PROCESSES"), value_source::default_value);
}

TEST(option_set, environment_overrides_the_default) {
  auto r = example_set().parse(
      {}, env_of({{"ETL_WORKER_PROCESSES", "8"}, {"ETL_HEDGE", "no"}, {"ETL_API_TOKEN", "t0k"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::int64_t>("ETL_WORKER_PROCESSES"), 8);
  EXPECT_FALSE(r->get<bool>("ETL_HEDGE"));
  EXPECT_EQ(r->get<std::string>("ETL_API_TOKEN"), "t0k");
  EXPECT_EQ(r->source("ETL_WORKER_PROCESSES"), value_source::environment);
}

TEST(option_set, flag_overrides_the_environment) {
  auto r = example_set().parse({"--worker-processes", "16", "--get-timeout=3s"},
                               env_of({{"ETL_WORKER_PROCESSES", "8"}, {"ETL_GET_TIMEOUT", "5s"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::int64_t>("ETL_WORKER_PROCESSES"), 16);
  EXPECT_EQ(r->get<milliseconds>("ETL_GET_TIMEOUT"), 3s);
  EXPECT_EQ(r->source("ETL_GET_TIMEOUT"), value_source::flag);
  EXPECT_EQ(r->label("ETL_GET_TIMEOUT"), "--get-timeout (ETL_GET_TIMEOUT)");
  EXPECT_EQ(r->label("ETL_HEDGE"), "ETL_HEDGE");
}

TEST(option_set, flag_with_equals_keeps_everything_after_the_first_equals) {
  option_set set;
  set.add(string_option("ETL_NOTE", std::nullopt, "free text"));
  auto r = set.parse({"--note=a=b"}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::string>("ETL_NOTE"), "a=b");
}

TEST(option_set, argc_argv_skips_the_program_name) {
  const char* argv[] = {"/usr/bin/etl-worker", "--log-format", "json"};
  auto r = example_set().parse(3, argv, env_of({}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::string>("ETL_LOG_FORMAT"), "json");
}

TEST(option_set, empty_environment_variable_counts_as_unset) {
  auto r = example_set().parse({}, env_of({{"ETL_WORKER_PROCESSES", ""}, {"ETL_API_TOKEN", ""}}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::int64_t>("ETL_WORKER_PROCESSES"), 2);
  EXPECT_FALSE(r->find<std::string>("ETL_API_TOKEN").has_value());
}

TEST(option_set, empty_flag_unsets_an_option_without_default) {
  auto r = example_set().parse({"--api-token="}, env_of({{"ETL_API_TOKEN", "from-env"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->find<std::string>("ETL_API_TOKEN").has_value());
}

TEST(option_set, empty_flag_value_for_an_option_with_default_is_missing) {
  const auto e = expect_error(example_set(), {"--worker-processes="});
  EXPECT_EQ(e.kind, option_error_kind::missing_value);
  EXPECT_EQ(e.message,
            "--worker-processes (ETL_WORKER_PROCESSES): needs a value (--worker-processes "
            "<1..256>)");
}

TEST(option_set, invalid_flag_value_names_the_flag_and_variable) {
  const auto e = expect_error(example_set(), {"--worker-processes", "x"});
  EXPECT_EQ(e.kind, option_error_kind::invalid_value);
  EXPECT_EQ(e.option, "ETL_WORKER_PROCESSES");
  EXPECT_EQ(e.message,
            "--worker-processes (ETL_WORKER_PROCESSES): must be an integer from 1 to 256, got 'x'");
}

TEST(option_set, invalid_environment_value_names_the_variable) {
  const auto e = expect_error(example_set(), {}, env_of({{"ETL_WORKER_PROCESSES", "x"}}));
  EXPECT_EQ(e.kind, option_error_kind::invalid_value);
  EXPECT_EQ(e.message, "ETL_WORKER_PROCESSES: must be an integer from 1 to 256, got 'x'");
}

TEST(option_set, a_bad_environment_value_is_ignored_when_a_flag_overrides_it) {
  auto r = example_set().parse({"--worker-processes=4"}, env_of({{"ETL_WORKER_PROCESSES", "x"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get<std::int64_t>("ETL_WORKER_PROCESSES"), 4);
}

TEST(option_set, unknown_flag_is_an_error) {
  const auto e = expect_error(example_set(), {"--worker-process", "4"});
  EXPECT_EQ(e.kind, option_error_kind::unknown_flag);
  EXPECT_EQ(e.option, "--worker-process");
  EXPECT_EQ(e.message, "unknown option --worker-process (see --help)");
  EXPECT_EQ(expect_error(example_set(), {"--bogus=1"}).option, "--bogus");
  EXPECT_EQ(expect_error(example_set(), {"--"}).kind, option_error_kind::unexpected_argument);
}

TEST(option_set, flag_without_value_is_missing) {
  const auto at_end = expect_error(example_set(), {"--get-timeout"});
  EXPECT_EQ(at_end.kind, option_error_kind::missing_value);
  EXPECT_EQ(at_end.message,
            "--get-timeout (ETL_GET_TIMEOUT): needs a value (--get-timeout <duration>)");
  const auto before_flag = expect_error(example_set(), {"--get-timeout", "--hedge"});
  EXPECT_EQ(before_flag.kind, option_error_kind::missing_value);
  EXPECT_EQ(before_flag.option, "ETL_GET_TIMEOUT");
}

TEST(option_set, stray_argument_is_an_error) {
  const auto e = expect_error(example_set(), {"json"});
  EXPECT_EQ(e.kind, option_error_kind::unexpected_argument);
  EXPECT_NE(e.message.find("unexpected argument 'json'"), std::string::npos);
  EXPECT_EQ(expect_error(example_set(), {"-x"}).kind, option_error_kind::unexpected_argument);
}

TEST(option_set, flag_given_twice_is_an_error) {
  const auto e = expect_error(example_set(), {"--log-format=json", "--log-format", "text"});
  EXPECT_EQ(e.kind, option_error_kind::unexpected_argument);
  EXPECT_EQ(e.message, "--log-format (ETL_LOG_FORMAT): given more than once");
}

TEST(option_set, bare_boolean_flag_means_true) {
  auto r = example_set().parse({"--hedge", "--log-format", "json"}, env_of({{"ETL_HEDGE", "0"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->get<bool>("ETL_HEDGE"));
  EXPECT_EQ(r->get<std::string>("ETL_LOG_FORMAT"), "json");

  auto last = example_set().parse({"--hedge"}, env_of({{"ETL_HEDGE", "0"}}));
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->get<bool>("ETL_HEDGE"));
}

TEST(option_set, boolean_flag_takes_a_following_boolean_word) {
  auto r = example_set().parse({"--hedge", "false"}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->get<bool>("ETL_HEDGE"));
  auto eq = example_set().parse({"--hedge=no"}, {});
  ASSERT_TRUE(eq.has_value());
  EXPECT_FALSE(eq->get<bool>("ETL_HEDGE"));
  // A following word that is not a boolean is not taken: here it is a stray argument.
  EXPECT_EQ(expect_error(example_set(), {"--hedge", "maybe"}).kind,
            option_error_kind::unexpected_argument);
  EXPECT_EQ(expect_error(example_set(), {"--hedge=maybe"}).kind, option_error_kind::invalid_value);
}

TEST(option_set, help_is_reported_before_any_other_problem) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"--bogus", "--help"}, {"--worker-processes=x", "-h"}}) {
    const auto e = expect_error(example_set(), args);
    EXPECT_EQ(e.kind, option_error_kind::help_requested);
  }
}

TEST(option_set, help_text_lists_every_option_with_variable_and_default) {
  const std::string help = example_set().help_text("etl-test", "a test binary");
  EXPECT_NE(help.find("etl-test: a test binary"), std::string::npos);
  EXPECT_NE(help.find("Usage: etl-test"), std::string::npos);
  const option_set set = example_set();
  for (const auto& spec : set.specs()) {
    EXPECT_NE(help.find(flag_name(spec.name) + " " + spec.value_hint), std::string::npos)
        << spec.name;
    EXPECT_NE(help.find(spec.name + "\n"), std::string::npos) << spec.name;
  }
  EXPECT_NE(help.find("worker processes (default: 2)"), std::string::npos) << help;
  EXPECT_NE(help.find("one GET attempt (default: 10s)"), std::string::npos) << help;
  EXPECT_NE(help.find("fixed hedge delay (default: unset)"), std::string::npos) << help;
  EXPECT_NE(help.find("bearer token (default: unset; the value is never shown)"), std::string::npos)
      << help;
  EXPECT_NE(help.find("ms, s, m or h"), std::string::npos) << "durations need their units";
  EXPECT_NE(help.find("--help"), std::string::npos);
}

TEST(option_set, help_lines_stay_within_100_columns) {
  option_set set;
  set.add(string_option("ETL_LONG", std::nullopt,
                        "a help line long enough that it must be folded over several lines so "
                        "that a terminal of one hundred columns shows it without wrapping"));
  const std::string help = set.help_text("etl", "x");
  std::size_t start = 0;
  while (start < help.size()) {
    const auto end = help.find('\n', start);
    EXPECT_LE(end - start, 100u) << help.substr(start, end - start);
    start = end + 1;
  }
  // Folding loses no word: with the line breaks and indents collapsed the sentence is whole.
  std::string collapsed;
  for (const char c : help) {
    const bool blank = c == ' ' || c == '\n';
    if (!blank || (!collapsed.empty() && collapsed.back() != ' ')) {
      collapsed += blank ? ' ' : c;
    }
  }
  EXPECT_NE(collapsed.find("a help line long enough that it must be folded over several lines so "
                           "that a terminal of one hundred columns shows it without wrapping "
                           "(default: unset)"),
            std::string::npos)
      << help;
}

TEST(option_set, declaration_mistakes_are_bugs) {
  option_set set;
  set.add(int_option("ETL_A", 1, 0, 9, "a"));
  EXPECT_THROW(set.add(int_option("ETL_A", 1, 0, 9, "again")), std::logic_error);
  EXPECT_THROW(set.add(int_option("etl_lower", 1, 0, 9, "lower")), std::logic_error);
  EXPECT_THROW(set.add(int_option("ETL_B", 10, 0, 9, "default out of range")), std::logic_error);
  EXPECT_THROW(set.add(option_spec{.name = "ETL_C", .help = "no parser"}), std::logic_error);
  EXPECT_TRUE(set.contains("ETL_A"));
  EXPECT_FALSE(set.contains("ETL_B"));
}

TEST(option_values, reading_with_the_wrong_type_is_a_bug) {
  auto r = example_set().parse({}, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_THROW((void)r->get<std::string>("ETL_WORKER_PROCESSES"), std::logic_error);
  EXPECT_THROW((void)r->get<milliseconds>("ETL_HEDGE_DELAY"), std::logic_error);
  EXPECT_FALSE(r->find<std::string>("ETL_NOT_DECLARED").has_value());
  EXPECT_FALSE(r->declared("ETL_NOT_DECLARED"));
  EXPECT_THROW((void)r->get<std::string>("ETL_NOT_DECLARED"), std::logic_error);
}

TEST(parse_or_exit, help_prints_to_stdout_and_exits_0) {
  const char* argv[] = {"/bin/etl-test", "--help"};
  const auto set = example_set();
  EXPECT_EXIT((void)parse_or_exit(set, 2, argv, "a test binary"), testing::ExitedWithCode(0), "");
}

TEST(parse_or_exit, bad_option_prints_the_error_and_exits_2) {
  const char* argv[] = {"/bin/etl-test", "--worker-processes=0"};
  const auto set = example_set();
  EXPECT_EXIT((void)parse_or_exit(set, 2, argv, "a test binary"), testing::ExitedWithCode(2),
              "etl-test: --worker-processes \\(ETL_WORKER_PROCESSES\\): must be an integer");
}

TEST(parse_or_exit, good_options_return_values) {
  const char* argv[] = {"/bin/etl-test", "--worker-processes=3"};
  const auto values = parse_or_exit(example_set(), 2, argv, "a test binary");
  EXPECT_EQ(values.get<std::int64_t>("ETL_WORKER_PROCESSES"), 3);
}

}  // namespace
}  // namespace etl
