#include "etl/server/retention_sweeper.hpp"

#include <spdlog/spdlog.h>

namespace etl {
namespace {

db_pool::options one_connection(db_pool::options o) {
  o.connections = 1;
  return o;
}

job_queue_options one_thread(job_queue_options o) {
  o.threads = 1;
  return o;
}

}  // namespace

retention_sweeper::retention_sweeper(db_pool::options db, redis_options redis,
                                     retention_options opts, job_queue_options queue_opts)
    : opts_(opts),
      db_(one_connection(std::move(db))),
      queue_(std::move(redis), one_thread(std::move(queue_opts))) {}

retention_sweeper::~retention_sweeper() {
  stop();
  if (thread_.joinable())
    thread_.join();
}

void retention_sweeper::start() {
  thread_ = std::thread([this] { loop(); });
}

void retention_sweeper::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
}

sweep_report retention_sweeper::sweep_once() {
  sweep_report out;
  const auto cutoff = std::chrono::system_clock::now() - opts_.retention;
  auto purged = purge_finished_tasks_blocking(db_, cutoff, 20, &stopping_);
  if (!purged) {
    out.failed = true;
    spdlog::warn("retention: deleting old tasks failed: {}; trying again in {} s",
                 purged.error().message(),
                 std::chrono::duration_cast<std::chrono::seconds>(opts_.period).count());
  } else {
    out.tasks = *purged;
  }
  auto trimmed = queue_.trim_dead_blocking(cutoff);
  if (!trimmed) {
    out.failed = true;
    spdlog::warn("retention: trimming the dead letters failed: {}", trimmed.error().message());
  } else {
    out.dead_letters = *trimmed;
  }
  if (out.tasks.tasks > 0 || out.dead_letters > 0) {
    spdlog::info("retention: deleted {} finished task(s) and {} dead letter(s) older than {} h",
                 out.tasks.tasks, out.dead_letters,
                 std::chrono::duration_cast<std::chrono::hours>(opts_.retention).count());
  }
  return out;
}

void retention_sweeper::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    sweep_once();
    lock.lock();
    wake_.wait_for(lock, opts_.period, [this] { return stopping_.load(); });
  }
}

}  // namespace etl
