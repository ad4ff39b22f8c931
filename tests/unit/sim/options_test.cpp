#include "etl/sim/options.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "etl/core/error.hpp"

namespace etl {
namespace {

result<sim_options> parse(std::vector<std::string_view> args, std::string* why = nullptr) {
  return parse_sim_options(args, why);
}

TEST(sim_options, defaults_match_the_original) {
  const auto o = parse({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 3123);
  EXPECT_EQ(o->chaos.chaos_percent, 2U);
  EXPECT_EQ(o->chaos.pause_min_seconds, 5U);
  EXPECT_EQ(o->chaos.pause_max_seconds, 15U);
  EXPECT_FALSE(o->pages);
  EXPECT_FALSE(o->seed);
  EXPECT_FALSE(o->verify);
  EXPECT_FALSE(o->no_post_pause);
  EXPECT_FALSE(o->capacity.enabled()) << "unbounded unless asked";
  for (const auto p : o->chaos.fault_percent) {
    EXPECT_EQ(p, 0U);
  }
}

TEST(sim_options, reads_every_flag_in_both_spellings) {
  const auto o = parse({"--port",
                        "0",
                        "--host=0.0.0.0",
                        "--threads",
                        "3",
                        "--pages=7",
                        "--seed",
                        "18446744073709551615",
                        "--chaos-percent",
                        "100",
                        "--pause-min",
                        "1",
                        "--pause-max=1",
                        "--no-post-pause",
                        "--verify",
                        "--fault-malformed-json",
                        "1",
                        "--fault-wrong-types",
                        "2",
                        "--fault-missing-fields",
                        "3",
                        "--fault-html-errors",
                        "4",
                        "--fault-reset",
                        "5",
                        "--fault-trickle",
                        "6",
                        "--fault-big-body=7",
                        "--trickle-delay-ms",
                        "5",
                        "--keep-alive-timeout",
                        "9",
                        "--log-level",
                        "debug",
                        "--repeat-ids",
                        "30",
                        "--post-delay-ms=1500",
                        "--capacity-slots",
                        "8",
                        "--request-cost-us=9800",
                        "--overload-cost-us",
                        "15"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->port, 0);
  EXPECT_EQ(o->host, "0.0.0.0");
  EXPECT_EQ(o->threads, 3U);
  EXPECT_EQ(o->pages, 7);
  EXPECT_EQ(o->seed, UINT64_MAX);
  EXPECT_EQ(o->chaos.chaos_percent, 100U);
  EXPECT_EQ(o->chaos.pause_min_seconds, 1U);
  EXPECT_EQ(o->chaos.pause_max_seconds, 1U);
  EXPECT_TRUE(o->no_post_pause);
  EXPECT_TRUE(o->verify);
  EXPECT_EQ(o->chaos.fault_percent, (std::array<unsigned, 7>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(o->trickle_delay.count(), 5);
  EXPECT_EQ(o->keep_alive_timeout.count(), 9);
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_EQ(o->repeat_ids_percent, 30U);
  EXPECT_EQ(o->post_delay, std::chrono::milliseconds(1500));
  EXPECT_EQ(o->capacity.slots, 8U);
  EXPECT_EQ(o->capacity.cost, std::chrono::microseconds(9800));
  EXPECT_EQ(o->capacity.overload, std::chrono::microseconds(15));
  EXPECT_TRUE(parse({"--help"})->help);
}

TEST(sim_options, bad_command_lines_fail_naming_the_flag) {
  const std::pair<std::vector<std::string_view>, std::string_view> cases[] = {
      {{"--bogus"}, "--bogus"},
      {{"--port"}, "--port"},
      {{"--port", "65536"}, "--port"},
      {{"--port", "80x"}, "--port"},
      {{"--chaos-percent", "101"}, "--chaos-percent"},
      {{"--chaos-percent", "-1"}, "--chaos-percent"},
      {{"--pages", "10000001"}, "--pages"},
      {{"--seed", "-5"}, "--seed"},
      {{"--pause-min", "9", "--pause-max", "3"}, "--pause-min"},
      {{"--fault-reset", "60", "--fault-trickle", "41"}, "--fault-"},
      {{"--verify=1"}, "--verify"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--threads", "0"}, "--threads"},
      {{"--repeat-ids", "101"}, "--repeat-ids"},
      {{"--post-delay-ms", "-1"}, "--post-delay-ms"},
      {{"--capacity-slots", "4097"}, "--capacity-slots"},
      {{"--request-cost-us", "1000"}, "--capacity-slots"},
      {{"--capacity-slots", "0", "--overload-cost-us", "5"}, "--capacity-slots"},
      {{"--request-cost-us", "-1"}, "--request-cost-us"},
  };
  for (const auto& [args, flag] : cases) {
    std::string why;
    const auto o = parse(args, &why);
    ASSERT_FALSE(o) << args.front();
    EXPECT_EQ(o.error(), errc::invalid_config);
    EXPECT_NE(why.find(flag), std::string::npos) << why;
  }
}

TEST(sim_options, usage_lists_every_flag) {
  const auto usage = sim_usage();
  for (const auto flag : {"--host",
                          "--port",
                          "--threads",
                          "--pages",
                          "--seed",
                          "--chaos-percent",
                          "--pause-min",
                          "--pause-max",
                          "--no-post-pause",
                          "--verify",
                          "--fault-malformed-json",
                          "--fault-wrong-types",
                          "--fault-missing-fields",
                          "--fault-html-errors",
                          "--fault-reset",
                          "--fault-trickle",
                          "--fault-big-body",
                          "--trickle-delay-ms",
                          "--keep-alive-timeout",
                          "--log-level",
                          "--repeat-ids",
                          "--post-delay-ms",
                          "--capacity-slots",
                          "--request-cost-us",
                          "--overload-cost-us",
                          "--help"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace etl
