// The registry's instruments, families and collection.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "etl/metrics/registry.hpp"

namespace etl {
namespace {

TEST(registry, counters_gauges_and_histograms_render_in_declaration_order) {
  metrics_registry reg;
  auto& requests = reg.counter_family("etl_http_requests_total", "Requests.", {"route", "status"});
  auto& up = reg.gauge_family("etl_up", "Up.");
  auto& durations =
      reg.histogram_family("etl_http_request_duration_seconds", "Durations.", {"route"}, {0.25, 1});
  requests.with({"/b", "200"}).inc();
  requests.with({"/a", "404"}).inc(2);
  requests.with({"/b", "200"}).inc();
  up.with({}).set(1);
  durations.with({"/a"}).observe(0.125);
  durations.with({"/a"}).observe(0.25);  // a bound is inclusive
  durations.with({"/a"}).observe(3);
  EXPECT_EQ(render_text(reg.collect()),
            "# HELP etl_http_requests_total Requests.\n"
            "# TYPE etl_http_requests_total counter\n"
            "etl_http_requests_total{route=\"/a\",status=\"404\"} 2\n"
            "etl_http_requests_total{route=\"/b\",status=\"200\"} 2\n"
            "# HELP etl_up Up.\n"
            "# TYPE etl_up gauge\n"
            "etl_up 1\n"
            "# HELP etl_http_request_duration_seconds Durations.\n"
            "# TYPE etl_http_request_duration_seconds histogram\n"
            "etl_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.25\"} 2\n"
            "etl_http_request_duration_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
            "etl_http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
            "etl_http_request_duration_seconds_sum{route=\"/a\"} 3.375\n"
            "etl_http_request_duration_seconds_count{route=\"/a\"} 3\n");
}

TEST(registry, a_counter_never_goes_down) {
  counter c;
  c.inc(2);
  c.inc(-1);
  c.inc(std::nan(""));
  EXPECT_EQ(c.value(), 2);
}

TEST(registry, gauges_go_both_ways) {
  gauge g;
  g.set(5);
  g.add(-7);
  EXPECT_EQ(g.value(), -2);
}

TEST(registry, declaration_errors_are_bugs) {
  metrics_registry reg;
  EXPECT_THROW(reg.counter_family("etl_requests", "no _total"), std::invalid_argument);
  EXPECT_THROW(reg.gauge_family("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(reg.gauge_family("etl_x", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(reg.histogram_family("etl_h", "x", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(reg.histogram_family("etl_h", "x", {}, {}), std::invalid_argument);
  EXPECT_THROW(reg.histogram_family("etl_h", "x", {}, {1, 1}), std::invalid_argument);
  reg.gauge_family("etl_x", "x");
  EXPECT_THROW(reg.gauge_family("etl_x", "again"), std::invalid_argument);
  auto& f = reg.gauge_family("etl_y", "y", {"a"});
  EXPECT_THROW(f.with({}), std::invalid_argument);
  EXPECT_THROW(f.with({"1", "2"}), std::invalid_argument);
}

TEST(registry, concurrent_updates_are_all_counted) {
  metrics_registry reg;
  auto& c = reg.counter_family("etl_x_total", "x", {"t"});
  auto& h = reg.histogram_family("etl_h_seconds", "h", {}, default_duration_bounds());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10'000; ++i) {
        c.with({t % 2 == 0 ? "even" : "odd"}).inc();
        h.with({}).observe(0.001);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.with({"even"}).value(), 20'000);
  EXPECT_EQ(c.with({"odd"}).value(), 20'000);
  const auto v = h.with({}).value();
  std::uint64_t n = 0;
  for (auto b : v.buckets)
    n += b;
  EXPECT_EQ(n, 40'000u);
  EXPECT_EQ(v.buckets[1], 40'000u);  // 0.001 falls in the le="0.001" bucket
}

}  // namespace
}  // namespace etl
