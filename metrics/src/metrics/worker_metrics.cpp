#include "etl/metrics/worker_metrics.hpp"

#include <charconv>

namespace etl {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(job_kind::count_)> kind_names{
    "plan", "batch", "other"};
constexpr std::array<std::string_view, static_cast<std::size_t>(job_end::count_)> end_names{
    "done", "retried", "dead_lettered"};

std::size_t job_index(std::size_t kind, std::size_t end) noexcept {
  return kind * static_cast<std::size_t>(job_end::count_) + end;
}

std::string join(std::string_view a, std::string_view b) {
  std::string s(a);
  s += '|';
  s += b;
  return s;
}

std::string jobs_key(std::size_t kind, std::size_t end) {
  return join(join("jobs", kind_names[kind]), end_names[end]);
}

std::int64_t as_int(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v);
}

std::int64_t load(const std::atomic<std::uint64_t>& a) noexcept {
  return as_int(a.load(std::memory_order_relaxed));
}

// Reads hash fields as integers; absent or malformed fields are 0.
struct hash_reader {
  const std::map<std::string, std::string>& hash;

  double operator()(const std::string& key) const {
    auto it = hash.find(key);
    if (it == hash.end())
      return 0;
    std::int64_t v = 0;
    const auto& s = it->second;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size())
      return 0;
    return static_cast<double>(v);
  }
};

metric_family family(std::string name, std::string help, metric_type type) {
  return metric_family{std::move(name), std::move(help), type, {}};
}

void add_sample(metric_family& f, label_set labels, double value) {
  metric_sample s;
  s.labels = std::move(labels);
  s.value = value;
  f.samples.push_back(std::move(s));
}

label_set one_label(std::string name, std::string_view value) {
  return {{std::move(name), std::string(value)}};
}

}  // namespace

job_kind job_kind_of(std::string_view type) noexcept {
  if (type == "plan")
    return job_kind::plan;
  if (type == "batch")
    return job_kind::batch;
  return job_kind::other;
}

void worker_counters::count_job(job_kind kind, job_end end) noexcept {
  jobs[job_index(static_cast<std::size_t>(kind), static_cast<std::size_t>(end))].fetch_add(
      1, std::memory_order_relaxed);
}

metric_fields worker_metric_fields(const worker_counters& counters,
                                   const std::vector<const http_client_metrics*>& clients) {
  metric_fields f;
  f["http_requests|answered"] = 0;
  f["http_requests|failed"] = 0;
  f["http_attempts"] = 0;
  for (std::size_t r = 0; r < static_cast<std::size_t>(retry_reason::count_); ++r)
    f[join("retries", to_string(static_cast<retry_reason>(r)))] = 0;
  f["hedges_sent"] = 0;
  f["hedges_won"] = 0;
  f["hedges_skipped"] = 0;
  for (auto b : latency_histogram::bounds_us)
    f[join("latency_le_us", std::to_string(b))] = 0;
  f["latency_count"] = 0;
  f["latency_sum_us"] = 0;

  for (const auto* m : clients) {
    f["http_requests|answered"] += load(m->answered);
    f["http_requests|failed"] += load(m->failures);
    f["http_attempts"] += load(m->attempts);
    for (std::size_t r = 0; r < m->retries.size(); ++r)
      f[join("retries", to_string(static_cast<retry_reason>(r)))] += load(m->retries[r]);
    f["hedges_sent"] += load(m->hedges_sent);
    f["hedges_won"] += load(m->hedges_won);
    f["hedges_skipped"] += load(m->hedges_skipped);
    // Cumulative, as rendered: a delta of cumulative counts is the cumulative count of deltas.
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < latency_histogram::bounds_us.size(); ++i) {
      cumulative += m->latency.bucket(i);
      f[join("latency_le_us", std::to_string(latency_histogram::bounds_us[i]))] +=
          as_int(cumulative);
    }
    // The count as the sum of the buckets, not count(): read one after the other, the two
    // could disagree by an observation recorded in between.
    cumulative += m->latency.bucket(latency_histogram::bounds_us.size());
    f["latency_count"] += as_int(cumulative);
    f["latency_sum_us"] += as_int(m->latency.sum_us());
  }

  f["animals_fetched"] = load(counters.animals_fetched);
  f["animals_posted"] = load(counters.animals_posted);
  f["animals_rejected"] = load(counters.animals_rejected);
  f["batches|posted"] = load(counters.batches_posted);
  f["batches|failed"] = load(counters.batches_failed);
  f["batches|in_doubt"] = load(counters.batches_in_doubt);
  for (std::size_t k = 0; k < kind_names.size(); ++k) {
    for (std::size_t e = 0; e < end_names.size(); ++e)
      f[jobs_key(k, e)] = load(counters.jobs[job_index(k, e)]);
  }
  return f;
}

metric_fields field_deltas(const metric_fields& now, const metric_fields& before) {
  metric_fields d;
  for (const auto& [k, v] : now) {
    auto it = before.find(k);
    const auto delta = v - (it == before.end() ? 0 : it->second);
    if (delta != 0)
      d.emplace(k, delta);
  }
  return d;
}

std::vector<metric_family> worker_families(const std::map<std::string, std::string>& hash) {
  const hash_reader get{hash};
  std::vector<metric_family> out;
  // A counter family without labels, its one value the hash field `key`.
  auto add_counter = [&](std::string name, std::string help, const std::string& key) {
    auto f = family(std::move(name), std::move(help), metric_type::counter);
    add_sample(f, {}, get(key));
    out.push_back(std::move(f));
  };

  auto requests = family("etl_worker_http_requests_total",
                         "HTTP requests of the workers to the source and home, one per request "
                         "however many attempts it took, by how it ended: answered (a status "
                         "that is not retried) or failed (retries exhausted, deadline, a POST "
                         "that may have landed).",
                         metric_type::counter);
  for (std::string_view outcome : {"answered", "failed"})
    add_sample(requests, one_label("outcome", outcome), get(join("http_requests", outcome)));
  out.push_back(std::move(requests));

  add_counter("etl_worker_http_attempts_total",
              "HTTP attempts the workers sent, retries and hedged copies included.",
              "http_attempts");

  auto retries = family("etl_worker_http_retries_total",
                        "HTTP attempts the workers retried, by reason.", metric_type::counter);
  for (std::size_t r = 0; r < static_cast<std::size_t>(retry_reason::count_); ++r) {
    const auto reason = to_string(static_cast<retry_reason>(r));
    add_sample(retries, one_label("reason", reason), get(join("retries", reason)));
  }
  out.push_back(std::move(retries));

  add_counter("etl_worker_http_hedges_total", "Hedged copies of slow GETs the workers sent.",
              "hedges_sent");

  add_counter("etl_worker_http_hedges_won_total",
              "Hedged copies that answered before the original.", "hedges_won");

  add_counter("etl_worker_http_hedges_skipped_total",
              "Hedge delays that passed with no free place in ETL_CONCURRENCY (a saturated "
              "upstream): no copy sent.",
              "hedges_skipped");

  auto latency = family("etl_worker_http_request_duration_seconds",
                        "Latency of the workers' answered HTTP attempts (one observation per "
                        "answered attempt), in the engine's buckets.",
                        metric_type::histogram);
  metric_sample ls;
  double previous = 0;
  for (auto b : latency_histogram::bounds_us) {
    const double cumulative = get(join("latency_le_us", std::to_string(b)));
    ls.histogram.bounds.push_back(static_cast<double>(b) / 1e6);
    ls.histogram.buckets.push_back(
        static_cast<std::uint64_t>(cumulative > previous ? cumulative - previous : 0));
    previous = std::max(previous, cumulative);
  }
  const double count = get("latency_count");
  ls.histogram.buckets.push_back(
      static_cast<std::uint64_t>(count > previous ? count - previous : 0));
  ls.histogram.sum = get("latency_sum_us") / 1e6;
  latency.samples.push_back(std::move(ls));
  out.push_back(std::move(latency));

  add_counter("etl_worker_animals_fetched_total",
              "Animal details the workers fetched from the source (a retried batch "
              "fetches its animals again).",
              "animals_fetched");

  add_counter("etl_worker_animals_posted_total",
              "Animals in batches recorded as posted to home (in doubt included).",
              "animals_posted");

  add_counter("etl_worker_animals_rejected_total",
              "Animals rejected as invalid, in batches recorded.", "animals_rejected");

  auto batches = family("etl_worker_batches_total",
                        "Batches recorded, by outcome: posted, failed, or in_doubt (a POST "
                        "that may have reached home before a crash, see ETL_IN_DOUBT).",
                        metric_type::counter);
  for (std::string_view outcome : {"posted", "failed", "in_doubt"})
    add_sample(batches, one_label("outcome", outcome), get(join("batches", outcome)));
  out.push_back(std::move(batches));

  auto jobs = family("etl_worker_jobs_total",
                     "Jobs the workers ran, by type and how they ended: done (acknowledged), "
                     "retried (handed back for redelivery) or dead_lettered.",
                     metric_type::counter);
  for (std::size_t k = 0; k < kind_names.size(); ++k) {
    for (std::size_t e = 0; e < end_names.size(); ++e) {
      add_sample(jobs,
                 {{"type", std::string(kind_names[k])}, {"outcome", std::string(end_names[e])}},
                 get(jobs_key(k, e)));
    }
  }
  out.push_back(std::move(jobs));
  return out;
}

}  // namespace etl
