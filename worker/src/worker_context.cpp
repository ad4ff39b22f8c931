#include "etl/worker/worker_context.hpp"

#include <algorithm>
#include <stdexcept>

#include <spdlog/spdlog.h>

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

// Every client of a worker process: the settings, and whether its loop runs on one thread.
http_client_options worker_client_options(const settings& cfg, bool single_threaded) {
  auto o = client_options(cfg);
  o.single_threaded = single_threaded;
  return o;
}

// The source's client carries the process's ETL_CONCURRENCY: every job's listing and detail
// GETs share the one limit, as the setting promises, instead of each job having its own.
http_client_options source_options(const settings& cfg, bool single_threaded) {
  auto o = worker_client_options(cfg, single_threaded);
  o.max_in_flight = static_cast<std::size_t>(cfg.concurrency);
  o.adaptive_in_flight = cfg.adaptive_concurrency;
  return o;
}

// The bucket of a spec's rate limit: at most `requests` in any `per_seconds` window, wherever the
// upstream's windows start. A bucket of one token refilled at (requests - 1) per window gives
// that: any window of T seconds holds at most 1 + (requests - 1) = requests grants. A fuller
// bucket would allow a burst on top of the refill: up to twice the quota in the first window.
// The one token of margin also absorbs a request that reaches the upstream a little later than
// its grant. A quota of 1 refills at one per window.
rate_limiter_options limiter_options(const std::string& origin, const rate_limit_spec& r) {
  rate_limiter_options o;
  o.key = "etl:ratelimit:" + origin;
  o.capacity = 1;
  o.tokens_per_second = static_cast<double>(std::max(r.requests - 1, 1)) / r.per_seconds;
  return o;
}

}  // namespace

worker_context::worker_context(net::any_io_executor ex, settings cfg,
                               std::vector<pipeline_spec> pipelines, job_queue_options queue_opts,
                               bool single_threaded)
    : ex_(ex),
      cfg_(std::move(cfg)),
      pipelines_(std::move(pipelines)),
      source_(ex, cfg_.source_url, source_options(cfg_, single_threaded)),
      db_(database_options(cfg_)),
      tasks_(db_),
      ledger_(db_),
      cursors_(db_),
      queue_(redis_options_for(cfg_), std::move(queue_opts)) {
  const auto home = must_parse(cfg_.home_url, "ETL_HOME_URL");
  home_target_ = home.target;
  // A pool of its own even when home shares the source's origin: a POST goes out right after
  // its batch's `posting` commit, and must not wait for a connection behind the details other
  // jobs are fetching. A worker killed in that wait leaves a batch in doubt that home never got.
  home_ = std::make_unique<http_client>(ex, home.origin(),
                                        worker_client_options(cfg_, single_threaded));
  // One client per upstream origin, made now: jobs on several threads only look them up. A
  // source with `auth` or `rate_limit` gets a client of its own kind (keyed by origin, auth and
  // limit), so that the headers of one pipeline never travel with another's requests and the
  // limit of one upstream never slows another.
  std::map<std::string, std::pair<rate_limit_spec, std::string>> limit_of;  // origin -> (limit, by)
  for (const auto& p : pipelines_) {
    // An http_batch pipeline reads through source_ (ETL_SOURCE_URL, its flag included).
    if (!p.sinks.empty() && p.sinks.front().kind == sink_kind::http_batch)
      continue;
    const auto base = must_parse(resolve(p.source.base_url), ("pipeline " + p.name).c_str());
    upstream up{nullptr, base_path_of(base), nullptr, {}};
    auto opts = source_options(cfg_, single_threaded);
    std::string client_key = base.origin();
    if (const auto& auth = p.source.auth) {
      auto creds = read_credentials(*auth);
      if (!creds) {
        up.access_error = "pipeline " + p.name + ": " + creds.error();
        spdlog::error("{}: its tasks will fail", up.access_error);
      } else {
        auto& stored = credentials_[p.name];
        stored = std::make_unique<source_credentials>(std::move(*creds));
        up.credentials = stored.get();
        present_credentials(*stored, opts);
        // By the variable's name, never its value: pipelines that read one secret share a client.
        client_key += "\nauth " + auth->env + " " + auth->header + " " + auth->query;
      }
    }
    if (p.source.quota_reset_seconds > 0) {
      // An upstream that counts what it serves against a quota: a hedged copy spends it twice.
      opts.hedge = false;
      client_key += "\nno hedge";
    }
    if (const auto& limit = p.source.rate_limit) {
      const auto origin = base.origin();
      auto [at, added] = limit_of.try_emplace(origin, *limit, p.name);
      if (!added && (at->second.first.requests != limit->requests ||
                     at->second.first.per_seconds != limit->per_seconds))
        throw std::invalid_argument("pipelines " + at->second.second + " and " + p.name + " give " +
                                    origin + " different rate limits");
      auto& limiter = limiters_[origin];
      if (!limiter)
        limiter = std::make_unique<redis_rate_limiter>(redis_options_for(cfg_),
                                                       limiter_options(origin, *limit));
      opts.admit = [l = limiter.get()] { return l->acquire(); };
      client_key += "\nrate limit";
    }
    auto& client = upstreams_[client_key];
    if (!client)
      client = std::make_unique<http_client>(ex, base.origin(), std::move(opts));
    up.client = client.get();
    upstream_of_[p.name] = std::move(up);
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
