// The workers' counters as hash fields, their deltas, and the families rendered from the hash.
#include <gtest/gtest.h>

#include <string>

#include "etl/metrics/worker_metrics.hpp"

namespace etl {
namespace {

std::map<std::string, std::string> as_hash(const metric_fields& f) {
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : f)
    h[k] = std::to_string(v);
  return h;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(worker_metrics, fields_sum_the_clients_and_include_zeros) {
  worker_counters c;
  c.animals_posted = 100;
  c.batches_in_doubt = 1;
  c.count_job(job_kind::batch, job_end::done);
  c.count_job(job_kind::batch, job_end::done);
  c.count_job(job_kind_of("weird"), job_end::dead_lettered);
  http_client_metrics source, home;
  source.answered = 10;
  home.answered = 2;
  home.failures = 1;
  source.retries[static_cast<std::size_t>(retry_reason::status_503)] = 4;
  source.latency.record(std::chrono::microseconds{300});       // le 500
  home.latency.record(std::chrono::microseconds{40'000'000});  // +Inf
  const auto f = worker_metric_fields(c, {&source, &home});
  EXPECT_EQ(f.at("http_requests|answered"), 12);
  EXPECT_EQ(f.at("http_requests|failed"), 1);
  EXPECT_EQ(f.at("retries|503"), 4);
  EXPECT_EQ(f.at("retries|connect"), 0);
  EXPECT_EQ(f.at("latency_le_us|250"), 0);
  EXPECT_EQ(f.at("latency_le_us|500"), 1);  // cumulative
  EXPECT_EQ(f.at("latency_le_us|30000000"), 1);
  EXPECT_EQ(f.at("latency_count"), 2);
  EXPECT_EQ(f.at("latency_sum_us"), 40'000'300);
  EXPECT_EQ(f.at("animals_posted"), 100);
  EXPECT_EQ(f.at("batches|in_doubt"), 1);
  EXPECT_EQ(f.at("jobs|batch|done"), 2);
  EXPECT_EQ(f.at("jobs|other|dead_lettered"), 1);
  EXPECT_EQ(f.at("jobs|plan|done"), 0);
}

TEST(worker_metrics, deltas_leave_out_what_did_not_change) {
  const metric_fields before{{"a", 1}, {"b", 5}};
  const metric_fields now{{"a", 1}, {"b", 7}, {"c", 3}};
  const auto d = field_deltas(now, before);
  EXPECT_EQ(d, (metric_fields{{"b", 2}, {"c", 3}}));
  EXPECT_TRUE(field_deltas(now, now).empty());
}

TEST(worker_metrics, families_render_the_hash) {
  worker_counters c;
  c.animals_fetched = 110;
  c.animals_posted = 100;
  c.animals_rejected = 10;
  c.batches_posted = 1;
  c.count_job(job_kind::plan, job_end::done);
  http_client_metrics m;
  m.answered = 111;
  m.hedges_sent = 3;
  m.hedges_skipped = 5;
  m.latency.record(std::chrono::microseconds{300});
  m.latency.record(std::chrono::microseconds{1'500});
  auto hash = as_hash(worker_metric_fields(c, {&m}));
  hash["unknown|field"] = "99";
  const auto text = "\n" + render_text(worker_families(hash));
  EXPECT_TRUE(has_line(text, "# TYPE etl_worker_animals_posted_total counter"));
  EXPECT_TRUE(has_line(text, "etl_worker_animals_posted_total 100"));
  EXPECT_TRUE(has_line(text, "etl_worker_animals_fetched_total 110"));
  EXPECT_TRUE(has_line(text, "etl_worker_animals_rejected_total 10"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_requests_total{outcome=\"answered\"} 111"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_requests_total{outcome=\"failed\"} 0"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_retries_total{reason=\"timeout\"} 0"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_hedges_total 3"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_hedges_skipped_total 5"));
  EXPECT_TRUE(has_line(text, "etl_worker_batches_total{outcome=\"posted\"} 1"));
  EXPECT_TRUE(has_line(text, "etl_worker_jobs_total{type=\"plan\",outcome=\"done\"} 1"));
  EXPECT_TRUE(has_line(text, "etl_worker_jobs_total{type=\"batch\",outcome=\"retried\"} 0"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_bucket{le=\"0.00025\"} 0"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_bucket{le=\"0.0005\"} 1"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_bucket{le=\"0.002\"} 2"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_bucket{le=\"30\"} 2"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_sum 0.0018"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_count 2"));
  EXPECT_EQ(text.find("unknown"), std::string::npos);
}

TEST(worker_metrics, an_empty_or_malformed_hash_renders_zeros) {
  const auto text = "\n" + render_text(worker_families({{"animals_posted", "not a number"}}));
  EXPECT_TRUE(has_line(text, "etl_worker_animals_posted_total 0"));
  EXPECT_TRUE(has_line(text, "etl_worker_http_request_duration_seconds_count 0"));
}

}  // namespace
}  // namespace etl
