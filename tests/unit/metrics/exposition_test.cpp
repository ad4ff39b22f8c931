// The Prometheus text format, checked character for character.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "etl/metrics/exposition.hpp"

namespace etl {
namespace {

metric_sample value_sample(label_set labels, double v) {
  metric_sample s;
  s.labels = std::move(labels);
  s.value = v;
  return s;
}

TEST(exposition, counter_with_labels_and_help) {
  metric_family f{"etl_http_requests_total", "HTTP requests served.", metric_type::counter, {}};
  f.samples.push_back(
      value_sample({{"route", "/healthz"}, {"method", "GET"}, {"status", "200"}}, 3));
  f.samples.push_back(
      value_sample({{"route", "/metrics"}, {"method", "GET"}, {"status", "200"}}, 1));
  EXPECT_EQ(render_text({f}),
            "# HELP etl_http_requests_total HTTP requests served.\n"
            "# TYPE etl_http_requests_total counter\n"
            "etl_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3\n"
            "etl_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"} 1\n");
}

TEST(exposition, gauge_without_labels_and_an_empty_family) {
  metric_family g{"etl_queue_length", "Jobs in the stream.", metric_type::gauge, {}};
  g.samples.push_back(value_sample({}, 7));
  metric_family empty{"etl_tasks", "Tasks by status.", metric_type::gauge, {}};
  EXPECT_EQ(render_text({g, empty}),
            "# HELP etl_queue_length Jobs in the stream.\n"
            "# TYPE etl_queue_length gauge\n"
            "etl_queue_length 7\n"
            "# HELP etl_tasks Tasks by status.\n"
            "# TYPE etl_tasks gauge\n");
}

TEST(exposition, label_values_and_help_are_escaped) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_help("back\\slash \"quoted\"\nnext"), "back\\\\slash \"quoted\"\\nnext");
  metric_family f{"x", "line one\nline \\two", metric_type::gauge, {}};
  f.samples.push_back(value_sample({{"path", "C:\\dir \"q\"\n"}}, 1.5));
  EXPECT_EQ(render_text({f}),
            "# HELP x line one\\nline \\\\two\n"
            "# TYPE x gauge\n"
            "x{path=\"C:\\\\dir \\\"q\\\"\\n\"} 1.5\n");
}

TEST(exposition, histogram_buckets_are_cumulative_with_inf_sum_and_count) {
  metric_family f{
      "etl_http_request_duration_seconds", "Request durations.", metric_type::histogram, {}};
  metric_sample s;
  s.labels = {{"route", "/healthz"}};
  s.histogram.bounds = {0.005, 0.1, 1};
  s.histogram.buckets = {2, 0, 3, 1};
  s.histogram.sum = 4.25;
  f.samples.push_back(s);
  EXPECT_EQ(render_text({f}),
            "# HELP etl_http_request_duration_seconds Request durations.\n"
            "# TYPE etl_http_request_duration_seconds histogram\n"
            "etl_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 2\n"
            "etl_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.1\"} 2\n"
            "etl_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"1\"} 5\n"
            "etl_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 6\n"
            "etl_http_request_duration_seconds_sum{route=\"/healthz\"} 4.25\n"
            "etl_http_request_duration_seconds_count{route=\"/healthz\"} 6\n");
}

TEST(exposition, histogram_without_labels) {
  metric_family f{"h", "H.", metric_type::histogram, {}};
  metric_sample s;
  s.histogram.bounds = {1};
  s.histogram.buckets = {0, 0};
  f.samples.push_back(s);
  EXPECT_EQ(render_text({f}),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(exposition, values) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(12345678901.0), "12345678901");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(0.00025), "0.00025");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(format_value(1e-12), "1e-12");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(exposition, names) {
  EXPECT_TRUE(is_metric_name("etl_up"));
  EXPECT_TRUE(is_metric_name("a:b_c9"));
  EXPECT_FALSE(is_metric_name(""));
  EXPECT_FALSE(is_metric_name("9lives"));
  EXPECT_FALSE(is_metric_name("etl-up"));
  EXPECT_TRUE(is_label_name("route"));
  EXPECT_TRUE(is_label_name("_x"));
  EXPECT_FALSE(is_label_name("__name__"));
  EXPECT_FALSE(is_label_name("a:b"));
  EXPECT_FALSE(is_label_name("1a"));
}

TEST(exposition, invalid_families_are_refused) {
  metric_family bad_name{"etl-up", "x", metric_type::gauge, {}};
  EXPECT_THROW(render_text({bad_name}), std::invalid_argument);
  metric_family bad_label{"etl_up", "x", metric_type::gauge, {}};
  bad_label.samples.push_back(value_sample({{"bad-label", "v"}}, 1));
  EXPECT_THROW(render_text({bad_label}), std::invalid_argument);
  metric_family le{"h", "x", metric_type::histogram, {}};
  metric_sample s;
  s.labels = {{"le", "1"}};
  s.histogram.bounds = {1};
  s.histogram.buckets = {0, 0};
  le.samples.push_back(s);
  EXPECT_THROW(render_text({le}), std::invalid_argument);
  metric_family short_buckets{"h", "x", metric_type::histogram, {}};
  metric_sample t;
  t.histogram.bounds = {1, 2};
  t.histogram.buckets = {0, 0};
  short_buckets.samples.push_back(t);
  EXPECT_THROW(render_text({short_buckets}), std::invalid_argument);
}

}  // namespace
}  // namespace etl
