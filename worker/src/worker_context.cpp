#include "etl/worker/worker_context.hpp"

#include <stdexcept>

#include "etl/config/store_options.hpp"
#include "etl/http/url.hpp"
#include "etl/pipelines/rest_source.hpp"

namespace etl {
namespace {

url must_parse(const std::string& text, const char* what) {
  std::string why;
  auto u = parse_url(text, &why);
  if (!u)
    throw std::invalid_argument(std::string(what) + ": " + why);
  return *u;
}

// The source's client carries the process's ETL_CONCURRENCY: every job's listing and detail
// GETs share the one limit, as the setting promises, instead of each job having its own.
http_client_options source_options(const settings& cfg) {
  auto o = client_options(cfg);
  o.max_in_flight = static_cast<std::size_t>(cfg.concurrency);
  return o;
}

}  // namespace

worker_context::worker_context(net::any_io_executor ex, settings cfg,
                               std::vector<pipeline_spec> pipelines, job_queue_options queue_opts)
    : ex_(ex),
      cfg_(std::move(cfg)),
      pipelines_(std::move(pipelines)),
      source_(ex, cfg_.source_url, source_options(cfg_)),
      db_(database_options(cfg_)),
      tasks_(db_),
      ledger_(db_),
      queue_(redis_options_for(cfg_), std::move(queue_opts)) {
  const auto home = must_parse(cfg_.home_url, "ETL_HOME_URL");
  home_target_ = home.target;
  // A pool of its own even when home shares the source's origin: a POST goes out right after
  // its batch's `posting` commit, and must not wait for a connection behind the details other
  // jobs are fetching. A worker killed in that wait leaves a batch in doubt that home never got.
  home_ = std::make_unique<http_client>(ex, home.origin(), client_options(cfg_));
  // One client per upstream origin, made now: jobs on several threads only look them up.
  for (const auto& p : pipelines_) {
    // An http_batch pipeline reads through source_ (ETL_SOURCE_URL, its flag included).
    if (!p.sinks.empty() && p.sinks.front().kind == sink_kind::http_batch)
      continue;
    const auto base = must_parse(resolve(p.source.base_url), ("pipeline " + p.name).c_str());
    auto& client = upstreams_[base.origin()];
    if (!client)
      client = std::make_unique<http_client>(ex, base.origin(), source_options(cfg_));
    std::string path = base.target.substr(0, base.target.find('?'));
    while (!path.empty() && path.back() == '/')
      path.pop_back();
    upstream_of_[p.name] = upstream{client.get(), path};
  }
}

const pipeline_spec* worker_context::pipeline(std::string_view name) const noexcept {
  for (const auto& p : pipelines_) {
    if (p.name == name)
      return &p;
  }
  return nullptr;
}

upstream worker_context::upstream_of(const pipeline_spec& spec) {
  auto it = upstream_of_.find(spec.name);
  if (it == upstream_of_.end())
    throw std::logic_error("pipeline " + spec.name + " is not one of this worker's");
  return it->second;
}

metric_fields worker_context::metric_totals() const {
  std::vector<const http_client_metrics*> clients{&source_.metrics()};
  for (const auto& [origin, client] : upstreams_)
    clients.push_back(&client->metrics());
  if (home_)
    clients.push_back(&home_->metrics());
  return worker_metric_fields(counters_, clients);
}

}  // namespace etl
