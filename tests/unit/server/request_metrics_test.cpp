// Route patterns and method labels keep the request counters' label values bounded.
#include <gtest/gtest.h>

#include <chrono>

#include "etl/metrics/exposition.hpp"
#include "etl/server/request_metrics.hpp"

namespace etl {
namespace {

TEST(request_metrics, paths_map_to_their_route_pattern) {
  EXPECT_EQ(route_pattern("/"), "/");
  EXPECT_EQ(route_pattern("/healthz"), "/healthz");
  EXPECT_EQ(route_pattern("/readyz/"), "/readyz");
  EXPECT_EQ(route_pattern("/metrics"), "/metrics");
  EXPECT_EQ(route_pattern("/extractor/trigger-task"), "/extractor/trigger-task");
  EXPECT_EQ(route_pattern("/extractor/trigger-task/"), "/extractor/trigger-task");
  EXPECT_EQ(route_pattern("/extractor/tasks"), "/extractor/tasks");
  EXPECT_EQ(route_pattern("/extractor/tasks/"), "/extractor/tasks");
  EXPECT_EQ(route_pattern("/extractor/tasks/0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e"),
            "/extractor/tasks/{id}");
  EXPECT_EQ(route_pattern("/extractor/tasks/not-a-uuid"), "/extractor/tasks/{id}");
  EXPECT_EQ(route_pattern("/extractor/tasks/abc/cancel"), "/extractor/tasks/{id}/cancel");
  EXPECT_EQ(route_pattern("/extractor/tasks/abc/cancel/"), "/extractor/tasks/{id}/cancel");
  EXPECT_EQ(route_pattern("/extractor/tasks//cancel"), "other");
  EXPECT_EQ(route_pattern("/extractor/tasks/abc/rejected"), "/extractor/tasks/{id}/rejected");
  EXPECT_EQ(route_pattern("/extractor/tasks/abc/other"), "other");
  EXPECT_EQ(route_pattern("/dashboard/app.js"), "/dashboard/app.js");
  EXPECT_EQ(route_pattern("/dashboard/nope.js"), "other");
  EXPECT_EQ(route_pattern("/wp-admin/login.php"), "other");
  EXPECT_EQ(route_pattern(""), "other");
}

TEST(request_metrics, unknown_methods_share_one_label) {
  EXPECT_EQ(method_label("GET"), "GET");
  EXPECT_EQ(method_label("OPTIONS"), "OPTIONS");
  EXPECT_EQ(method_label("get"), "other");
  EXPECT_EQ(method_label("BREW"), "other");
}

TEST(request_metrics, records_by_pattern_and_status) {
  metrics_registry reg;
  request_metrics m(reg);
  m.record("GET", "/extractor/tasks/1", 404, std::chrono::milliseconds{3});
  m.record("GET", "/extractor/tasks/2", 404, std::chrono::milliseconds{7});
  m.record("BREW", "/coffee", 404, std::chrono::milliseconds{1});
  const auto text = render_text(reg.collect());
  EXPECT_NE(text.find("etl_http_requests_total{route=\"/extractor/tasks/{id}\",method=\"GET\","
                      "status=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("etl_http_requests_total{route=\"other\",method=\"other\",status=\"404\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("etl_http_request_duration_seconds_bucket{route=\"/extractor/tasks/{id}\","
                      "method=\"GET\",le=\"0.005\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("etl_http_request_duration_seconds_count{route=\"/extractor/tasks/{id}\","
                      "method=\"GET\"} 2\n"),
            std::string::npos)
      << text;
}

TEST(request_metrics, answers_before_routing_count_by_status) {
  metrics_registry reg;
  request_metrics m(reg);
  m.record_refused(431);
  m.record_refused(431);
  m.record_refused(503);
  const auto text = render_text(reg.collect());
  EXPECT_NE(text.find("etl_http_refused_requests_total{status=\"431\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("etl_http_refused_requests_total{status=\"503\"} 1\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace etl
