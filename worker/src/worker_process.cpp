#include "etl/worker/worker_process.hpp"

#include <csignal>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "etl/config/store_options.hpp"
#include "etl/db/migrations.hpp"
#include "etl/metrics/metrics_publisher.hpp"
#include "etl/worker/job_runner.hpp"
#include "etl/worker/worker_context.hpp"

namespace etl {

int run_worker_process(const settings& cfg, const worker_process_options& opts, int slot) {
  net::io_context ioc(static_cast<int>(opts.threads));
  job_queue_options queue_opts;
  queue_opts.lease = opts.lease;
  queue_opts.max_deliveries = opts.max_deliveries;
  worker_context ctx(ioc.get_executor(), cfg, opts.pipelines, std::move(queue_opts),
                     opts.threads == 1);

  // Refuse to run against a schema older than this binary needs (or one it does not know).
  if (auto schema = check_schema(ctx.db()); !schema) {
    spdlog::critical("worker {}: database schema: {} {}", slot, schema.error().code.message(),
                     schema.error().detail);
    return 1;
  }

  // The counters reach /metrics through Redis (see metrics_publisher.hpp for the loss window).
  // Short timeouts: a publish that cannot get through waits for the next interval.
  auto publisher_redis = redis_options_for(cfg);
  publisher_redis.connect_timeout = std::chrono::milliseconds{1'000};
  publisher_redis.command_timeout = std::chrono::milliseconds{2'000};
  metrics_publisher publisher(publisher_redis, [&ctx] { return ctx.metric_totals(); });

  job_runner runner(ctx, opts.jobs);
  int exit_code = 0;
  net::signal_set signals(ioc, SIGTERM, SIGINT);
  net::steady_timer drain_timer(ioc);
  signals.async_wait([&](error_code ec, int sig) {
    if (ec)
      return;
    spdlog::info("worker {}: signal {}: draining {} job(s)", slot, sig, runner.running());
    runner.stop();
    drain_timer.expires_after(opts.drain_deadline);
    drain_timer.async_wait([&](error_code tec) {
      if (tec)
        return;
      spdlog::error(
          "worker {}: jobs still running after the drain deadline: leaving them to "
          "be reclaimed",
          slot);
      exit_code = 1;
      ioc.stop();
    });
  });
  net::co_spawn(ioc, runner.run(), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& err) {
        spdlog::critical("worker {}: job runner failed: {}", slot, err.what());
      }
      exit_code = 1;
    }
    signals.cancel();
    drain_timer.cancel();
    ioc.stop();
  });
  spdlog::info("worker {} ready: {} jobs at once, {} requests in flight, consumer {}", slot,
               opts.jobs, cfg.concurrency, ctx.queue().consumer());

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < opts.threads; ++i)
    threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads)
    t.join();
  publisher.stop();  // one last publish: a clean exit loses no count
  spdlog::info("worker {} stopped", slot);
  return exit_code;
}

}  // namespace etl
