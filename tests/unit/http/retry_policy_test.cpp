#include "etl/http/retry_policy.hpp"

#include <gtest/gtest.h>

#include <set>

#include "etl/http/client_metrics.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

TEST(retry_policy, retries_the_statuses_of_the_contract) {
  retry_options opts;
  for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u}) {
    EXPECT_TRUE(reason_for_status(s, opts).has_value()) << s;
  }
  for (unsigned s : {200u, 201u, 301u, 400u, 401u, 404u, 413u, 422u, 501u, 505u}) {
    EXPECT_FALSE(reason_for_status(s, opts).has_value()) << s;
  }
  EXPECT_EQ(reason_for_status(503, opts), retry_reason::status_503);
  opts.retry_status_500 = false;
  EXPECT_FALSE(reason_for_status(500, opts).has_value());
}

TEST(retry_policy, reasons_have_distinct_labels) {
  std::set<std::string_view> labels;
  for (std::size_t i = 0; i < static_cast<std::size_t>(retry_reason::count_); ++i) {
    labels.insert(to_string(static_cast<retry_reason>(i)));
  }
  EXPECT_EQ(labels.size(), static_cast<std::size_t>(retry_reason::count_));
  EXPECT_FALSE(labels.contains("unknown"));
}

TEST(retry_policy, backoff_stays_within_the_exponential_ceiling_and_the_cap) {
  retry_options opts;
  opts.base_delay = 100ms;
  opts.max_delay = 1'000ms;
  std::mt19937_64 rng(42);
  for (int attempt = 2; attempt <= 40; ++attempt) {
    const auto ceiling =
        std::min<std::int64_t>(1'000, attempt - 2 >= 4 ? 1'000 : 100 << (attempt - 2));
    std::int64_t max_seen = 0;
    for (int i = 0; i < 2'000; ++i) {
      const auto d = backoff_delay(opts, attempt, rng).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling) << "attempt " << attempt;
      max_seen = std::max(max_seen, d);
    }
    // Full jitter spreads over the whole range: the largest of 2,000 draws is near the top.
    EXPECT_GE(max_seen, ceiling * 9 / 10) << "attempt " << attempt;
  }
}

TEST(retry_policy, backoff_is_spread_not_constant) {
  retry_options opts;
  opts.base_delay = 1'000ms;
  opts.max_delay = 1'000ms;
  std::mt19937_64 rng(7);
  std::int64_t below_half = 0;
  for (int i = 0; i < 1'000; ++i)
    below_half += backoff_delay(opts, 2, rng) < 500ms;
  EXPECT_GT(below_half, 400);
  EXPECT_LT(below_half, 600);
}

TEST(retry_policy, backoff_survives_huge_bases) {
  retry_options opts;
  opts.base_delay = std::chrono::milliseconds{std::int64_t{1} << 60};
  opts.max_delay = 5'000ms;
  std::mt19937_64 rng(1);
  EXPECT_LE(backoff_delay(opts, 30, rng), 5'000ms);
}

TEST(retry_after, parses_delta_seconds) {
  const auto now = sys_clock::now();
  EXPECT_EQ(parse_retry_after("120", now), 120'000ms);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0ms);
  EXPECT_EQ(parse_retry_after("99999999999", now), 86'400'000ms);
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("1.5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
}

TEST(retry_after, parses_the_three_http_date_forms) {
  // 1994-11-06T08:49:37Z, and "now" 37 seconds before it.
  const sys_clock::time_point when{std::chrono::seconds{784111777}};
  const auto now = when - 37s;
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 37'000ms);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 37'000ms);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), 37'000ms);
}

TEST(retry_after, a_past_date_means_now_and_garbage_is_ignored) {
  const sys_clock::time_point when{std::chrono::seconds{784111777}};
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", when + 1h), 0ms);
  EXPECT_FALSE(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", when));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", when));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", when));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", when));
}

TEST(retry_after, is_capped_and_preferred_to_backoff) {
  retry_options opts;
  opts.retry_after_cap = 3'000ms;
  std::mt19937_64 rng(3);
  EXPECT_EQ(next_delay(opts, 2, 10'000ms, rng), 3'000ms);
  EXPECT_EQ(next_delay(opts, 2, 1'500ms, rng), 1'500ms);
  EXPECT_LE(next_delay(opts, 2, std::nullopt, rng), opts.base_delay);
}

TEST(latency_histogram, buckets_and_quantiles) {
  latency_histogram h;
  EXPECT_FALSE(h.quantile(0.95));
  for (int i = 0; i < 95; ++i)
    h.record(800us);  // bucket <= 1 ms
  for (int i = 0; i < 5; ++i)
    h.record(3s);  // bucket <= 5 s
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.bucket(2), 95u);
  EXPECT_EQ(h.quantile(0.95), 1'000us);
  EXPECT_EQ(h.quantile(0.99), 5'000'000us);
  h.record(100s);
  EXPECT_EQ(h.bucket(latency_histogram::bounds_us.size()), 1u);
  EXPECT_EQ(h.sum_us(), 95u * 800 + 5u * 3'000'000 + 100'000'000u);
}

}  // namespace
}  // namespace etl
