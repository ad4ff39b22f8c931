#include "etl/server/readiness.hpp"

#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "etl/config/option_types.hpp"
#include "etl/core/error.hpp"

namespace etl {

using wake_channel = net::experimental::concurrent_channel<void(error_code)>;

struct readiness::check_run {
  std::chrono::steady_clock::time_point deadline;
  std::mutex mutex;
  std::optional<error_code> outcome;  // set once the check has answered (empty code: ok)
  std::vector<std::shared_ptr<wake_channel>> waiters;
};

namespace {

using run_ptr = std::shared_ptr<readiness::check_run>;

void finish(const run_ptr& run, error_code ec) {
  std::vector<std::shared_ptr<wake_channel>> waiters;
  {
    std::lock_guard lock(run->mutex);
    run->outcome = ec;
    waiters.swap(run->waiters);
  }
  for (auto& w : waiters)
    w->try_send(error_code{});
}

net::awaitable<void> ping_redis(job_queue& queue, run_ptr run) {
  finish(run, co_await queue.ping());
}

net::awaitable<void> ping_postgres(db_pool& db, run_ptr run) {
  auto r = co_await db.ping();
  finish(run, r ? error_code{} : r.error());
}

// The run's outcome once it has one or its deadline passed: ok (empty), the store's error, or
// errc::timeout.
net::awaitable<error_code> outcome_of(run_ptr run) {
  auto ex = co_await net::this_coro::executor;
  auto wake = std::make_shared<wake_channel>(ex, 1);
  std::optional<error_code> known;
  {
    std::lock_guard lock(run->mutex);
    if (run->outcome)
      known = run->outcome;
    else
      run->waiters.push_back(wake);
  }
  if (known)
    co_return *known;
  // Only this coroutine touches the timer; its handler only sends on the (thread-safe) channel.
  net::steady_timer timer(ex, run->deadline);
  timer.async_wait([wake](error_code ec) {
    if (!ec)
      wake->try_send(error_code{});
  });
  (void)co_await wake->async_receive(net::as_tuple(net::use_awaitable));
  timer.cancel();
  {
    std::lock_guard lock(run->mutex);
    known = run->outcome;
  }
  if (known)
    co_return *known;
  co_return make_error_code(errc::timeout);
}

std::string_view check_word(const error_code& ec) {
  if (!ec)
    return "ok";
  return ec == errc::timeout ? "timeout" : "failed";
}

std::string check_detail(std::string_view store, const error_code& ec,
                         std::chrono::milliseconds timeout) {
  if (ec == errc::timeout)
    return std::string(store) + " did not answer within " + format_duration(timeout);
  return std::string(store) + ": " + ec.message();
}

server_reply ready_reply(const error_code& redis, const error_code& postgres,
                         std::chrono::milliseconds timeout) {
  boost::json::object checks;
  checks["redis"] = check_word(redis);
  checks["postgres"] = check_word(postgres);
  boost::json::object o;
  const bool ready = !redis && !postgres;
  o["status"] = ready ? "ready" : "not_ready";
  o["checks"] = std::move(checks);
  if (!ready) {
    std::string detail;
    if (redis)
      detail = check_detail("redis", redis, timeout);
    if (postgres)
      detail += (detail.empty() ? "" : "; ") + check_detail("postgres", postgres, timeout);
    o["error"] = "not_ready";
    o["detail"] = detail;
  }
  return server_reply{ready ? 200u : 503u, "application/json", boost::json::serialize(o), {}};
}

void log_escaped(std::exception_ptr e) {
  if (!e)
    return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& err) {
    spdlog::error("readiness check failed: {}", err.what());
  }
}

}  // namespace

readiness::readiness(db_pool& db, job_queue& queue, std::chrono::milliseconds timeout)
    : db_(db), queue_(queue), timeout_(timeout) {}

readiness::~readiness() = default;

std::shared_ptr<readiness::check_run> readiness::current_or_start(bool redis,
                                                                  const net::any_io_executor& ex) {
  std::lock_guard lock(mutex_);
  auto& slot = redis ? redis_run_ : postgres_run_;
  if (slot) {
    std::lock_guard run_lock(slot->mutex);
    if (!slot->outcome)
      return slot;  // still running: share it, even past its deadline (then: timeout)
  }
  auto run = std::make_shared<check_run>();
  run->deadline = std::chrono::steady_clock::now() + timeout_;
  slot = run;
  if (redis)
    net::co_spawn(ex, ping_redis(queue_, run), log_escaped);
  else
    net::co_spawn(ex, ping_postgres(db_, run), log_escaped);
  return run;
}

net::awaitable<server_reply> readiness::handle() {
  auto ex = co_await net::this_coro::executor;
  auto redis_run = current_or_start(true, ex);
  auto postgres_run = current_or_start(false, ex);
  // Both started above; waiting for one after the other still takes at most one timeout.
  const auto redis = co_await outcome_of(redis_run);
  const auto postgres = co_await outcome_of(postgres_run);
  if (redis || postgres) {
    spdlog::warn("readyz: not ready: redis {}, postgres {}", redis ? redis.message() : "ok",
                 postgres ? postgres.message() : "ok");
  }
  co_return ready_reply(redis, postgres, timeout_);
}

}  // namespace etl
