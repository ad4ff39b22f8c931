#include "etl/server/server_app.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "etl/config/store_options.hpp"
#include "etl/db/db_pool.hpp"
#include "etl/db/migrations.hpp"
#include "etl/db/tasks_repository.hpp"
#include "etl/pipelines/compaction.hpp"
#include "etl/pipelines/postgres_sink.hpp"
#include "etl/pipelines/sweep.hpp"
#include "etl/queue/job_queue.hpp"
#include "etl/server/api_auth.hpp"
#include "etl/server/http_server.hpp"
#include "etl/server/metrics_api.hpp"
#include "etl/server/plan_outbox.hpp"
#include "etl/server/readiness.hpp"
#include "etl/server/request_metrics.hpp"
#include "etl/server/retention_sweeper.hpp"
#include "etl/server/scheduler.hpp"
#include "etl/server/task_api.hpp"
#include "etl/server/task_cache.hpp"

namespace etl {
namespace {

http_server_options http_options(const settings& cfg) {
  http_server_options o;
  o.read_timeout = cfg.http_read_timeout;
  o.idle_timeout = cfg.http_idle_timeout;
  o.max_connections = static_cast<std::size_t>(cfg.http_max_connections);
  return o;
}

// Each connection is a file descriptor: lifts the soft limit on them (often 1,024) towards the
// hard one so that `connections` plus the stores' sockets fit, and warns when they cannot.
void raise_open_file_limit(std::size_t connections) {
  constexpr rlim_t headroom = 256;  // Postgres and Redis connections, logs, the listener
  const rlim_t wanted = static_cast<rlim_t>(connections) + headroom;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    const rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, rl.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
      spdlog::info("open file limit raised from {} to {}", was, rl.rlim_cur);
    } else {
      rl.rlim_cur = was;
    }
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    spdlog::warn(
        "open file limit {} (hard {}) is below ETL_HTTP_MAX_CONNECTIONS + {}: connections past it "
        "are refused by the kernel (EMFILE) rather than answered 503",
        rl.rlim_cur, rl.rlim_max, headroom);
  }
}

// ETL_TEST_FAILPOINT: for the tests only (see task_api_options::failpoint); not a setting.
std::string test_failpoint() {
  const char* v = std::getenv("ETL_TEST_FAILPOINT");
  return v ? v : "";
}

}  // namespace

int run_migrations(const settings& cfg, const std::vector<pipeline_spec>& pipelines) {
  db_pool db(database_options(cfg));
  auto report = apply_migrations(db);
  if (!report) {
    spdlog::critical("migrations failed: {} {}", report.error().code.message(),
                     report.error().detail);
    return 1;
  }
  std::printf("schema at version %d (%zu migration(s) applied now)\n", required_schema_version(),
              report->applied.size());
  for (const auto& p : pipelines) {
    if (p.migrations.empty())
      continue;
    auto own = apply_pipeline_migrations(db, p);
    if (!own) {
      spdlog::critical("migrations failed: {} {}", own.error().code.message(), own.error().detail);
      return 1;
    }
    std::printf("pipeline %s at version %d (%zu migration(s) applied now)\n", p.name.c_str(),
                own->schema_version, own->applied.size());
  }
  return 0;
}

int run_compaction(const settings& cfg, const std::vector<pipeline_spec>& pipelines,
                   const std::string& name) {
  const auto spec = std::find_if(pipelines.begin(), pipelines.end(),
                                 [&](const pipeline_spec& p) { return p.name == name; });
  if (spec == pipelines.end()) {
    spdlog::critical("compaction: no pipeline named {}", name);
    return 2;
  }
  db_pool db(database_options(cfg, 1));
  auto done = db.run_connection_sync<boost::system::result<compaction_report, std::string>>(
      [&](pqxx::connection& c) { return compact_pipeline(c, *spec, cfg.output_dir); });
  if (!done) {
    spdlog::critical("compaction of {}: {}", name, done.error().message());
    return 1;
  }
  if (!*done) {
    spdlog::critical("compaction of {}: {}", name, done->error());
    return 1;
  }
  const auto& r = **done;
  std::printf("%s: %lld files in %d folder(s) merged into %d (%lld rows)%s%s\n", name.c_str(),
              static_cast<long long>(r.files_in), r.folders, r.folders,
              static_cast<long long>(r.rows), r.task_id.empty() ? "" : ", task ",
              r.task_id.c_str());
  for (const auto& path : r.written)
    std::printf("  %s\n", path.c_str());
  return 0;
}

int run_sweep(const settings& cfg, const std::vector<pipeline_spec>& pipelines,
              const std::string& name) {
  std::vector<const pipeline_spec*> chosen;
  for (const auto& p : pipelines) {
    if (name == "all" || p.name == name)
      chosen.push_back(&p);
  }
  if (chosen.empty()) {
    spdlog::critical("sweep: no pipeline named {}", name);
    return 2;
  }
  db_pool db(database_options(cfg, 1));
  for (const auto* spec : chosen) {
    auto done = db.run_connection_sync<boost::system::result<unlisted_sweep, std::string>>(
        [&](pqxx::connection& c) { return sweep_unlisted(c, *spec, cfg.output_dir); });
    if (!done) {
      spdlog::critical("sweep of {}: {}", spec->name, done.error().message());
      return 1;
    }
    if (!*done) {
      spdlog::critical("sweep of {}: {}", spec->name, done->error());
      return 1;
    }
    const auto& r = **done;
    std::printf("%s: %zu unlisted file(s) removed, %lld listed kept, %lld too recent to judge\n",
                spec->name.c_str(), r.removed.size(), static_cast<long long>(r.listed),
                static_cast<long long>(r.too_recent));
    for (const auto& path : r.removed)
      std::printf("  %s\n", path.c_str());
  }
  return 0;
}

int run_server(const settings& cfg, const server_app_options& opts) {
  raise_open_file_limit(static_cast<std::size_t>(cfg.http_max_connections));
  db_pool db(database_options(cfg));
  if (auto schema = check_schema(db); !schema) {
    spdlog::critical("database schema: {} {} (run etl-server --migrate-only)",
                     schema.error().code.message(), schema.error().detail);
    return 1;
  }
  tasks_repository tasks(db);
  job_queue queue(redis_options_for(cfg));
  const api_auth auth(cfg.api_token);
  readiness ready(db, queue, cfg.ready_timeout);
  task_cache cache;
  // On a thread of its own: stopped and joined when run_server returns.
  retention_sweeper sweeper(database_options(cfg, 1), redis_options_for(cfg),
                            {.retention = cfg.retention});
  sweeper.start();

  net::io_context ioc(static_cast<int>(opts.threads));
  // After the io_context: destroyed before it, once its reads still running have finished.
  auto metrics_redis = redis_options_for(cfg);
  metrics_redis.connect_timeout = std::chrono::milliseconds{1'000};
  metrics_redis.command_timeout = std::chrono::milliseconds{1'000};
  static const std::vector<pipeline_spec> no_pipelines;
  metrics_endpoint_options metrics_opts;
  for (const auto& p : opts.pipelines ? *opts.pipelines : no_pipelines)
    metrics_opts.pipelines.push_back(p.name);
  if (metrics_opts.pipelines.empty())
    metrics_opts.pipelines.push_back("animals");
  metrics_endpoint metrics(tasks, queue, metrics_redis, std::move(metrics_opts));
  schedule_store schedule_runs(db);
  task_api* api_for_schedules = nullptr;
  scheduler schedules(
      ioc.get_executor(), schedule_runs, opts.pipelines ? *opts.pipelines : no_pipelines,
      {.enabled = cfg.schedules, .grace = cfg.schedule_grace},
      [&api_for_schedules](std::string pipeline, std::string key) {
        return api_for_schedules->start_with_defaults(std::move(pipeline), std::move(key));
      });
  task_api api(tasks, queue,
               {.auth = &auth,
                .ready = &ready,
                .cache = &cache,
                .metrics = &metrics,
                .idempotency_retention = cfg.idempotency_retention,
                .failpoint = test_failpoint(),
                .pipelines = opts.pipelines,
                .schedules = &schedules});
  api_for_schedules = &api;
  const request_handler api_handler = [&api](server_request req) {
    return api.handle(std::move(req));
  };
  auto server_options = http_options(cfg);
  server_options.on_refused = [&metrics](unsigned status) {
    metrics.requests().record_refused(status);
  };
  http_server server(ioc.get_executor(), cfg.listen_host, cfg.listen_port, server_options,
                     [&](server_request req) {
                       return handle_counted(api_handler, metrics.requests(), std::move(req));
                     });
  server.start();
  spdlog::info("etl-server listening on http://{}:{}", cfg.listen_host, server.port());

  // The io_context stops once both the server has finished its connections and the sweep its
  // round: neither may be cut off in the middle of a database call.
  auto stopping = std::make_shared<std::atomic<int>>(3);
  auto one_stopped = [&ioc, stopping] {
    if (stopping->fetch_sub(1) == 1)
      ioc.stop();
  };
  plan_outbox_sweep sweep(ioc.get_executor(), tasks, queue);
  net::co_spawn(ioc, sweep.run(), [one_stopped](std::exception_ptr e) {
    if (e)
      spdlog::error("plan outbox sweep stopped by an exception");
    one_stopped();
  });

  net::co_spawn(ioc, schedules.run(), [one_stopped](std::exception_ptr e) {
    if (e)
      spdlog::error("scheduler stopped by an exception");
    one_stopped();
  });

  net::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](error_code ec, int sig) {
    if (ec)
      return;
    spdlog::info("signal {}: finishing {} connection(s), then exiting", sig, server.connections());
    sweep.stop();
    schedules.stop();
    server.stop(one_stopped);
  });

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < opts.threads; ++i)
    threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads)
    t.join();
  spdlog::info("etl-server stopped");
  return 0;
}

}  // namespace etl
