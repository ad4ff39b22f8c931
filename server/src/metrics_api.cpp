#include "etl/server/metrics_api.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/core/error.hpp"
#include "etl/metrics/exposition.hpp"
#include "etl/metrics/worker_metrics.hpp"

namespace etl {
namespace {

using task_counts = std::map<std::string, std::map<task_status, std::int64_t>>;

struct redis_snapshot {
  queue_stats queue;
  std::map<std::string, std::string> workers;  // the workers' hash, field -> value
};

result<redis_snapshot> read_redis_blocking(job_queue& queue, redis_connection& conn) {
  redis_snapshot out;
  auto stats = queue.stats_blocking();
  if (!stats)
    return stats.error();
  out.queue = *stats;
  auto hash = conn.command({"HGETALL", std::string(worker_metrics_key)});
  if (!hash)
    return hash.error();
  if (hash->is_error())
    return make_error_code(redis_errc::server_error);
  if (!hash->is_array() || hash->elements.size() % 2 != 0)
    return make_error_code(redis_errc::unexpected_reply);
  for (std::size_t i = 0; i + 1 < hash->elements.size(); i += 2)
    out.workers[hash->elements[i].str] = hash->elements[i + 1].str;
  return out;
}

metric_family gauge_of(std::string name, std::string help, double value) {
  metric_family f{std::move(name), std::move(help), metric_type::gauge, {}};
  metric_sample s;
  s.value = value;
  f.samples.push_back(std::move(s));
  return f;
}

metric_family source_up(bool postgres, bool redis) {
  metric_family f{"etl_metrics_source_up",
                  "1 when the source answered this scrape within the timeout; 0 when it did "
                  "not, and the families it feeds are left out (etl-server logs why).",
                  metric_type::gauge,
                  {}};
  f.samples.push_back({{{"source", "postgres"}}, postgres ? 1.0 : 0.0, {}});
  f.samples.push_back({{{"source", "redis"}}, redis ? 1.0 : 0.0, {}});
  return f;
}

// Every pipeline of `pipelines` with every status (0 when no task has it), so a series exists
// before its first task; tasks of pipelines not listed are summed under "other", shown only
// when there are some.
metric_family tasks_family(const task_counts& counts, const std::vector<std::string>& pipelines) {
  metric_family f{
      "etl_tasks", "Tasks recorded in Postgres, by pipeline and status.", metric_type::gauge, {}};
  constexpr std::array statuses{task_status::queued, task_status::running, task_status::succeeded,
                                task_status::failed, task_status::cancelled};
  std::map<task_status, std::int64_t> other;
  bool any_other = false;
  for (const auto& [pipeline, by_status] : counts) {
    if (std::find(pipelines.begin(), pipelines.end(), pipeline) != pipelines.end())
      continue;
    any_other = true;
    for (const auto& [st, n] : by_status)
      other[st] += n;
  }
  const auto add = [&](const std::string& pipeline,
                       const std::map<task_status, std::int64_t>* by_status) {
    for (auto st : statuses) {
      double n = 0;
      if (by_status != nullptr) {
        const auto it = by_status->find(st);
        n = it == by_status->end() ? 0.0 : static_cast<double>(it->second);
      }
      f.samples.push_back(
          {{{"pipeline", pipeline}, {"status", std::string(to_string(st))}}, n, {}});
    }
  };
  for (const auto& pipeline : pipelines) {
    const auto it = counts.find(pipeline);
    add(pipeline, it == counts.end() ? nullptr : &it->second);
  }
  if (any_other)
    add("other", &other);
  return f;
}

void add_queue_families(std::vector<metric_family>& out, const queue_stats& q) {
  out.push_back(gauge_of("etl_queue_length",
                         "Jobs in the queue's stream not yet acknowledged: waiting or in hand.",
                         static_cast<double>(q.stream_length)));
  out.push_back(gauge_of("etl_queue_pending_jobs",
                         "Jobs delivered to a worker and not yet acknowledged.",
                         static_cast<double>(q.pending)));
  out.push_back(gauge_of("etl_queue_oldest_pending_age_seconds",
                         "Time since the oldest pending job was enqueued; 0 when none is pending.",
                         static_cast<double>(q.oldest_pending_age_ms) / 1e3));
  out.push_back(gauge_of("etl_queue_oldest_pending_idle_seconds",
                         "The longest a pending job has gone without its worker renewing the "
                         "lease; above ETL_JOB_LEASE its worker is gone and it awaits reclaim.",
                         static_cast<double>(q.oldest_pending_idle_ms) / 1e3));
  out.push_back(gauge_of("etl_queue_dead_letters",
                         "Jobs in the dead-letter stream: delivered too often, their tasks failed.",
                         static_cast<double>(q.dead_letter_length)));
}

// Why a source is missing from this scrape, for the log.
template <class T>
std::string missing_reason(const std::optional<result<T>>& r, const std::string& skipped,
                           std::chrono::milliseconds timeout) {
  if (!skipped.empty())
    return skipped;
  if (!r)
    return "no answer within " + std::to_string(timeout.count()) + " ms";
  return r->error().message();
}

}  // namespace

struct metrics_endpoint::scrape {
  explicit scrape(net::any_io_executor e) : ex(e), timer(e) {}
  net::any_io_executor ex;  // the requesting connection's strand: every field is touched there
  net::steady_timer timer;  // the deadline; cancelled early when every read has answered
  int remaining = 0;        // reads started and not yet answered
  std::optional<result<task_counts>> tasks;
  std::optional<result<redis_snapshot>> redis;
  std::string postgres_skipped, redis_skipped;  // why a source was not asked

  void answered() {
    if (--remaining == 0)
      timer.cancel();
  }
};

metrics_endpoint::metrics_endpoint(tasks_repository& tasks, job_queue& queue, redis_options redis,
                                   metrics_endpoint_options opts)
    : tasks_(tasks),
      queue_(queue),
      workers_conn_(std::move(redis)),
      opts_(std::move(opts)),
      requests_(registry_) {}

metrics_endpoint::~metrics_endpoint() {
  pool_.join();
}

void metrics_endpoint::read_postgres(std::shared_ptr<scrape> s) {
  if (postgres_busy_.exchange(true)) {
    s->postgres_skipped = "the previous read has not finished";
    return;
  }
  ++s->remaining;
  // Spawned on the endpoint's pool, not on the connection: the read may outlive the request.
  net::co_spawn(pool_, tasks_.count_by_pipeline(),
                [this, s](std::exception_ptr e, result<task_counts> r) {
                  if (e) {
                    try {
                      std::rethrow_exception(e);
                    } catch (const std::exception& err) {
                      spdlog::error("metrics: counting tasks threw: {}", err.what());
                    }
                    r = make_error_code(errc::cancelled);
                  }
                  postgres_busy_ = false;
                  net::post(s->ex, [s, r = std::move(r)]() mutable {
                    s->tasks = std::move(r);
                    s->answered();
                  });
                });
}

void metrics_endpoint::read_redis(std::shared_ptr<scrape> s) {
  if (redis_busy_.exchange(true)) {
    s->redis_skipped = "the previous read has not finished";
    return;
  }
  ++s->remaining;
  net::post(pool_, [this, s] {
    result<redis_snapshot> r = make_error_code(errc::cancelled);
    try {
      r = read_redis_blocking(queue_, workers_conn_);
    } catch (const std::exception& err) {
      spdlog::error("metrics: reading Redis threw: {}", err.what());
    }
    redis_busy_ = false;
    net::post(s->ex, [s, r = std::move(r)]() mutable {
      s->redis = std::move(r);
      s->answered();
    });
  });
}

net::awaitable<server_reply> metrics_endpoint::handle() {
  auto s = std::make_shared<scrape>(co_await net::this_coro::executor);
  s->timer.expires_after(opts_.timeout);
  read_postgres(s);
  read_redis(s);
  // The answers are posted to this strand, so they cannot arrive before this wait starts.
  if (s->remaining > 0)
    co_await s->timer.async_wait(net::as_tuple(net::use_awaitable));

  const bool postgres_ok = s->tasks && *s->tasks;
  const bool redis_ok = s->redis && *s->redis;
  if (!postgres_ok) {
    spdlog::warn("metrics: Postgres left out of this scrape: {}",
                 missing_reason(s->tasks, s->postgres_skipped, opts_.timeout));
  }
  if (!redis_ok) {
    spdlog::warn("metrics: Redis left out of this scrape: {}",
                 missing_reason(s->redis, s->redis_skipped, opts_.timeout));
  }

  auto families = registry_.collect();
  families.push_back(source_up(postgres_ok, redis_ok));
  if (postgres_ok)
    families.push_back(tasks_family(**s->tasks, opts_.pipelines));
  if (redis_ok) {
    const auto& snap = **s->redis;
    add_queue_families(families, snap.queue);
    for (auto& f : worker_families(snap.workers))
      families.push_back(std::move(f));
  }
  server_reply reply;
  reply.content_type = std::string(prometheus_content_type);
  reply.body = render_text(families);
  co_return reply;
}

}  // namespace etl
