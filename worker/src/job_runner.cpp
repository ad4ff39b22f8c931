#include "etl/worker/job_runner.hpp"

#include <memory>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/core/uuid.hpp"
#include "etl/db/db_error.hpp"
#include "etl/jobs/batch_message.hpp"
#include "etl/worker/batch_job.hpp"
#include "etl/worker/plan_job.hpp"

namespace etl {
namespace {

constexpr auto nothrow_awaitable = net::as_tuple(net::use_awaitable);

// Postgres down, restarting or failing over: worth trying again in a moment.
bool is_outage(const error_code& ec) {
  return ec == db_errc::connection_failed || ec == db_errc::commit_in_doubt;
}

// The job's type for logs and metrics: "plan", "batch", or "unknown".
std::string type_name(const job_fields& fields) {
  auto type = job_type_of(fields);
  return type ? std::string(to_string(*type)) : std::string("unknown");
}

net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(nothrow_awaitable);
}

}  // namespace

net::awaitable<job_outcome> job_runner::run_once(const job& j) {
  const auto type = job_type_of(j.fields);
  if (!type)
    co_return job_outcome::retry(type.error().message);
  try {
    switch (*type) {
      case job_type::plan:
        co_return co_await run_plan_job(ctx_, j);
      case job_type::batch:
        co_return co_await run_batch_job(ctx_, j);
    }
    co_return job_outcome::retry("unhandled job type");
  } catch (const std::exception& e) {
    // A bug, but the job must not stay leased forever: hand it back; it dead-letters in time.
    spdlog::error("job {}: {} job threw: {}", j.id, to_string(*type), e.what());
    co_return job_outcome::retry(std::string("exception: ") + e.what());
  }
}

bool job_runner::start_running(const std::string& id) {
  std::lock_guard lock(ids_mu_);
  return running_ids_.insert(id).second;
}

void job_runner::end_running(const std::string& id) {
  std::lock_guard lock(ids_mu_);
  running_ids_.erase(id);
}

net::awaitable<void> job_runner::run_one(job j) {
  const auto type = type_name(j.fields);
  // While Postgres is unreachable the job stays here, its lease renewed, and runs again after a
  // growing pause: handed back, it would come round every lease and be dead-lettered by an
  // outage of max_deliveries leases. Bounded, and not while draining.
  const auto give_up = std::chrono::steady_clock::now() + wait_limit;
  std::chrono::milliseconds pause{250};
  auto outcome = co_await run_once(j);
  while (outcome.verdict == job_verdict::wait && !stopping_ && ctx_.queue().holds(j) &&
         std::chrono::steady_clock::now() + pause < give_up) {
    spdlog::warn("job {} ({} delivery {}): {}; running it again in {} ms", j.id, type, j.deliveries,
                 outcome.reason, pause.count());
    co_await sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{5'000});
    outcome = co_await run_once(j);
  }
  ctx_.counters().count_job(
      job_kind_of(type), outcome.verdict == job_verdict::done ? job_end::done : job_end::retried);
  if (outcome.verdict == job_verdict::stale) {
    // A newer run holds the job's work: it acknowledges the job, or its own redelivery does.
    spdlog::warn("job {} ({} delivery {}): {}; left to the newer run", j.id, type, j.deliveries,
                 outcome.reason);
    ctx_.queue().release(j);
  } else if (outcome.verdict == job_verdict::done) {
    if (!ctx_.queue().holds(j)) {
      // Another worker reclaimed it while this one stalled; its run is the one that counts.
      spdlog::warn("job {}: lease lost before the ack; left to the worker that holds it", j.id);
      ctx_.queue().release(j);
    } else if (auto ec = co_await ctx_.queue().ack(j)) {
      spdlog::warn("job {}: ack failed ({}); it will be redelivered and found done", j.id,
                   ec.message());
    }
  } else {
    spdlog::warn("job {} ({} delivery {}): {}; handed back", j.id, type, j.deliveries,
                 outcome.reason);
    if (auto ec = co_await ctx_.queue().hand_back(j, outcome.reason)) {
      spdlog::warn("job {}: its error could not be recorded ({}); a dead letter will not name it",
                   j.id, ec.message());
    }
  }
}

net::awaitable<error_code> job_runner::record_burial(const dead_job& d, const std::string& reason) {
  const auto task_id = task_of(d.fields);
  if (auto batch = decode_batch_message(d.fields)) {
    batch_result failed{batch_outcome::failed, {}, {}, reason};
    auto r = co_await ctx_.ledger().finish_batch(task_id, batch->batch_no, std::move(failed));
    if (r) {
      if (r->applied)
        ++ctx_.counters().batches_failed;
      co_return error_code{};
    }
    if (is_outage(r.error()))
      co_return r.error();
    spdlog::error("task {}: recording the dead batch failed: {}; failing the task", task_id,
                  r.error().message());
  }
  if (!is_uuid(task_id))
    co_return error_code{};  // no task to tell
  auto r = co_await ctx_.tasks().fail_task(task_id, reason);
  co_return r ? error_code{} : r.error();
}

net::awaitable<void> job_runner::bury(dead_job d) {
  const auto task_id = task_of(d.fields);
  const auto type = type_name(d.fields);
  const auto reason = type + " job dead-lettered: " + d.reason;
  ctx_.counters().count_job(job_kind_of(type), job_end::dead_lettered);
  spdlog::error("task {}: {}", task_id, reason);
  co_await record_until_done(d, reason);
}

net::awaitable<void> job_runner::record_until_done(const dead_job& d, const std::string& reason) {
  const auto task_id = task_of(d.fields);
  const auto type = type_name(d.fields);
  const auto give_up = std::chrono::steady_clock::now() + bury_limit;
  std::chrono::milliseconds pause{250};
  for (;;) {
    const auto ec = co_await record_burial(d, reason);
    if (!ec)
      co_return;
    if (!is_outage(ec) || stopping_ || std::chrono::steady_clock::now() + pause > give_up) {
      spdlog::error(
          "task {}: could not record its dead {} job ({}); the task stays as it is, the job is "
          "entry {} of the dead-letter stream",
          task_id, type, ec.message(), d.dead_id);
      co_return;
    }
    spdlog::warn("task {}: recording its dead {} job: {}; trying again in {} ms", task_id, type,
                 ec.message(), pause.count());
    co_await sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{5'000});
  }
}

net::awaitable<void> job_runner::bury_recent_again() {
  auto dead = co_await ctx_.queue().recent_dead(rebury_window, rebury_count);
  if (!dead) {
    spdlog::warn("job queue: reading the recent dead letters: {}", dead.error().message());
    co_return;
  }
  // Recording is idempotent: a task already failed, or a batch already finished, stays as it is.
  for (const auto& d : *dead) {
    if (stopping_)
      break;
    const auto reason = type_name(d.fields) + " job dead-lettered: " + d.reason;
    co_await record_until_done(d, reason);
  }
}

net::awaitable<void> job_runner::run() {
  auto ex = co_await net::this_coro::executor;
  using signal_channel = net::experimental::concurrent_channel<void(error_code)>;
  // Shared with every job's completion handler: a handler decrements running_ and then sends,
  // on another thread, so run() may see running_ at 0 and return (ending this frame) before
  // that last send. The channel must outlive it.
  auto finished = std::make_shared<signal_channel>(ex, slots_);
  std::chrono::milliseconds backoff{100};
  // Burials run beside the jobs, in a slot of their own: they may wait out a Postgres outage.
  // The handler touches `this` only before its decrement: once running_ reads 0, run() may
  // return and the runner go.
  auto ended = [this, finished](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& err) {
        spdlog::error("a job failed with an exception: {}", err.what());
      }
    }
    --running_;
    finished->try_send(error_code{});
  };
  ++running_;
  net::co_spawn(ex, bury_recent_again(), ended);

  while (!stopping_) {
    if (running_ >= slots_) {
      co_await finished->async_receive(nothrow_awaitable);
      continue;
    }
    auto next = co_await ctx_.queue().next(slots_ - running_);
    if (!next) {
      spdlog::warn("job queue: {}; retrying in {} ms", next.error().message(), backoff.count());
      co_await sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds{5'000});
      continue;
    }
    backoff = std::chrono::milliseconds{100};
    for (auto& d : next->dead) {
      ++running_;
      net::co_spawn(ex, bury(std::move(d)), ended);
    }
    for (auto& j : next->jobs) {
      if (!start_running(j.id)) {
        // Reclaimed from this very process (its lease lapsed during a Redis outage, say): the
        // run in hand goes on; the queue keeps renewing the entry for it.
        spdlog::warn("job {}: handed out again (delivery {}) while it runs here; not started twice",
                     j.id, j.deliveries);
        continue;
      }
      ++running_;
      auto id = j.id;
      net::co_spawn(ex, run_one(std::move(j)),
                    [this, id = std::move(id), ended](std::exception_ptr e) {
                      end_running(id);
                      ended(e);
                    });
    }
  }
  while (running_ > 0)
    co_await finished->async_receive(nothrow_awaitable);
}

}  // namespace etl
