#include "etl/sim/chaos.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace etl {
namespace {

TEST(sim_chaos, default_probability_is_2_of_101_split_evenly) {
  const sim_chaos chaos(123, sim_chaos_settings{});
  constexpr std::uint64_t draws = 1'000'000;
  std::uint64_t errors = 0;
  std::uint64_t pauses = 0;
  std::set<unsigned> statuses;
  std::set<std::int64_t> pause_seconds;
  for (std::uint64_t n = 0; n < draws; ++n) {
    const auto v = chaos.chaos_for(n);
    if (v.what == sim_chaos_verdict::kind::error) {
      ++errors;
      statuses.insert(v.status);
    } else if (v.what == sim_chaos_verdict::kind::pause) {
      ++pauses;
      pause_seconds.insert(v.pause.count());
    }
  }
  const double expected = draws * 2.0 / 101.0;  // 19,802; sd ~139
  EXPECT_NEAR(static_cast<double>(errors + pauses), expected, 700.0);
  EXPECT_NEAR(static_cast<double>(errors), expected / 2, 500.0);
  EXPECT_NEAR(static_cast<double>(pauses), expected / 2, 500.0);
  EXPECT_EQ(statuses, (std::set<unsigned>{500, 502, 503, 504}));
  EXPECT_EQ(pause_seconds.size(), 11U);
  EXPECT_EQ(*pause_seconds.begin(), 5);
  EXPECT_EQ(*pause_seconds.rbegin(), 15);
}

TEST(sim_chaos, same_seed_same_sequence_other_seed_other_sequence) {
  sim_chaos_settings settings;
  settings.chaos_percent = 50;
  const sim_chaos a(9, settings);
  const sim_chaos b(9, settings);
  const sim_chaos c(10, settings);
  int differing = 0;
  for (std::uint64_t n = 0; n < 1000; ++n) {
    const auto va = a.chaos_for(n);
    const auto vb = b.chaos_for(n);
    ASSERT_EQ(va.what, vb.what);
    ASSERT_EQ(va.status, vb.status);
    ASSERT_EQ(va.pause, vb.pause);
    differing += va.what != c.chaos_for(n).what ? 1 : 0;
  }
  EXPECT_GT(differing, 300);
}

TEST(sim_chaos, zero_percent_never_and_hundred_percent_always) {
  sim_chaos_settings off;
  off.chaos_percent = 0;
  sim_chaos_settings on;
  on.chaos_percent = 100;
  on.pause_min_seconds = 1;
  on.pause_max_seconds = 1;
  const sim_chaos never(1, off);
  const sim_chaos always(1, on);
  for (std::uint64_t n = 0; n < 100'000; ++n) {
    ASSERT_EQ(never.chaos_for(n).what, sim_chaos_verdict::kind::none);
    const auto v = always.chaos_for(n);
    ASSERT_NE(v.what, sim_chaos_verdict::kind::none);
    if (v.what == sim_chaos_verdict::kind::pause) {
      ASSERT_EQ(v.pause.count(), 1);
    }
  }
}

TEST(sim_chaos, faults_follow_their_percentages_and_exclude_each_other) {
  sim_chaos_settings settings;
  settings.fault_percent = {10, 5, 0, 20, 0, 0, 1};
  const sim_chaos chaos(77, settings);
  std::array<std::uint64_t, sim_fault_kinds + 1> counts{};
  constexpr std::uint64_t draws = 200'000;
  for (std::uint64_t n = 0; n < draws; ++n) {
    ++counts[static_cast<std::size_t>(chaos.fault_for(n))];
  }
  EXPECT_NEAR(counts[1] / double(draws), 0.10, 0.005);
  EXPECT_NEAR(counts[2] / double(draws), 0.05, 0.005);
  EXPECT_EQ(counts[3], 0U);
  EXPECT_NEAR(counts[4] / double(draws), 0.20, 0.005);
  EXPECT_EQ(counts[5], 0U);
  EXPECT_EQ(counts[6], 0U);
  EXPECT_NEAR(counts[7] / double(draws), 0.01, 0.002);
  EXPECT_NEAR(counts[0] / double(draws), 0.64, 0.005);

  sim_chaos_settings all;
  all.fault_percent = {0, 0, 0, 0, 100, 0, 0};
  for (std::uint64_t n = 0; n < 1000; ++n) {
    ASSERT_EQ(sim_chaos(1, all).fault_for(n), sim_fault::reset);
  }
}

TEST(sim_chaos, fault_names_match_the_flags) {
  EXPECT_EQ(to_string(sim_fault::malformed_json), "malformed_json");
  EXPECT_EQ(to_string(sim_fault::html_error), "html_errors");
  EXPECT_EQ(to_string(sim_fault::big_body), "big_body");
}

}  // namespace
}  // namespace etl
