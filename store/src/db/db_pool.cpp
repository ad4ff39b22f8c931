#include "etl/db/db_pool.hpp"

#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>
#include <pqxx/except>
#include <pqxx/nontransaction>

namespace etl {
namespace {

bool is_uri(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// Appends the timeouts to the caller's URL. Keepalives and tcp_user_timeout bound a read from a
// peer that vanished without closing the socket; statement_timeout travels in `options` so that
// it holds on every (re)connection without a separate SET.
std::string make_conninfo(const db_pool::options& o) {
  const auto connect_s = std::max<long long>(1, o.connect_timeout.count());
  const auto statement_ms = std::max<long long>(1, o.statement_timeout.count());
  const auto tcp_ms = statement_ms + 10'000;
  std::string s = o.url;
  if (is_uri(o.url)) {
    s += o.url.find('?') == std::string::npos ? '?' : '&';
    s += "connect_timeout=" + std::to_string(connect_s);
    s += "&keepalives=1&keepalives_idle=10&keepalives_interval=5&keepalives_count=3";
    s += "&tcp_user_timeout=" + std::to_string(tcp_ms);
    s += "&options=-c%20statement_timeout%3D" + std::to_string(statement_ms);
  } else {
    s += " connect_timeout=" + std::to_string(connect_s);
    s += " keepalives=1 keepalives_idle=10 keepalives_interval=5 keepalives_count=3";
    s += " tcp_user_timeout=" + std::to_string(tcp_ms);
    s += " options='-c statement_timeout=" + std::to_string(statement_ms) + "'";
  }
  return s;
}

// 57014 query_canceled (statement_timeout), 55P03 lock_not_available.
bool is_timeout_state(const std::string& sqlstate) {
  return sqlstate == "57014" || sqlstate == "55P03";
}

void backoff(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int base_ms = 5 << std::min(attempt, 6);
  std::uniform_int_distribution<int> jitter(0, base_ms);
  // A pool thread, not an event loop thread: a short sleep only delays this transaction.
  std::this_thread::sleep_for(std::chrono::milliseconds(base_ms + jitter(rng)));
}

}  // namespace

db_pool::db_pool(options opts)
    : opts_(std::move(opts)),
      conninfo_(make_conninfo(opts_)),
      slots_(std::max<std::size_t>(1, opts_.connections)),
      pool_(std::max<std::size_t>(1, opts_.connections)) {
  if (opts_.url.empty())
    throw std::invalid_argument("db_pool: empty database URL");
  for (std::size_t i = slots_.size(); i-- > 0;)
    free_.push_back(i);
}

db_pool::~db_pool() {
  pool_.join();
}

net::awaitable<result<void>> db_pool::ping() {
  co_return co_await run([](pqxx::work& tx) { tx.exec("SELECT 1"); });
}

std::size_t db_pool::acquire() {
  std::unique_lock lock(mutex_);
  slot_freed_.wait(lock, [&] { return !free_.empty(); });
  const std::size_t index = free_.back();
  free_.pop_back();
  return index;
}

void db_pool::release(std::size_t index) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(index);
  }
  slot_freed_.notify_one();
}

error_code db_pool::run_once(bool bare,
                             const std::function<void(pqxx::work*, pqxx::connection*)>& body) {
  const std::size_t index = acquire();
  struct releaser {
    db_pool* self;
    std::size_t index;
    ~releaser() { self->release(index); }
  } release_on_exit{this, index};
  auto& conn = slots_[index].conn;

  const int attempts = std::max(1, opts_.conflict_attempts);
  bool retried_stale = false;
  for (int attempt = 1;; ++attempt) {
    if (conn && !conn->is_open())
      conn.reset();
    const bool fresh = !conn;
    if (!conn) {
      try {
        // statement_timeout rides in the conninfo, so libpqxx 6's own silent reactivation of a
        // dropped connection keeps it too.
        conn = std::make_unique<pqxx::connection>(conninfo_);
      } catch (const std::exception& e) {
        conn.reset();
        spdlog::warn("postgres: connect failed: {}", e.what());
        return db_errc::connection_failed;
      }
    }
    try {
      if (bare) {
        body(nullptr, conn.get());
      } else {
        pqxx::work tx(*conn);
        body(&tx, conn.get());
        tx.commit();
      }
      return {};
    } catch (const pqxx::in_doubt_error& e) {
      conn.reset();
      spdlog::error("postgres: commit outcome unknown: {}", e.what());
      return db_errc::commit_in_doubt;
    } catch (const pqxx::statement_completion_unknown& e) {
      conn.reset();
      spdlog::error("postgres: statement outcome unknown: {}", e.what());
      return db_errc::commit_in_doubt;
    } catch (const pqxx::broken_connection& e) {
      conn.reset();
      // A pooled connection that died while idle (a Postgres restart): nothing was committed
      // (a break during COMMIT is in_doubt_error), so one rerun on a new connection is safe.
      if (!fresh && !bare && !retried_stale) {
        retried_stale = true;
        spdlog::info("postgres: pooled connection was lost, reconnecting: {}", e.what());
        continue;
      }
      spdlog::warn("postgres: connection lost: {}", e.what());
      return db_errc::connection_failed;
    } catch (const pqxx::transaction_rollback& e) {
      // Serialization failure or deadlock: nothing was committed, so a rerun is safe.
      if (bare || attempt >= attempts) {
        spdlog::warn("postgres: transaction conflict on attempt {}/{}: {}", attempt, attempts,
                     e.what());
        return db_errc::conflict_retries_exhausted;
      }
      spdlog::debug("postgres: transaction conflict, retrying: {}", e.what());
      backoff(attempt);
    } catch (const pqxx::sql_error& e) {
      const bool timed_out = is_timeout_state(e.sqlstate());
      spdlog::warn("postgres: {} (SQLSTATE {}): {} in query: {}",
                   timed_out ? "statement timed out" : "statement failed", e.sqlstate(), e.what(),
                   e.query());
      if (!conn->is_open())
        conn.reset();
      return timed_out ? db_errc::timeout : db_errc::query_failed;
    } catch (const pqxx::failure& e) {
      spdlog::warn("postgres: {}", e.what());
      if (!conn->is_open())
        conn.reset();
      return db_errc::query_failed;
    } catch (const pqxx::conversion_error& e) {
      spdlog::error("postgres: unexpected value in a result: {}", e.what());
      return db_errc::query_failed;
    } catch (const pqxx::range_error& e) {
      spdlog::error("postgres: unexpected result shape: {}", e.what());
      return db_errc::query_failed;
    }
  }
}

}  // namespace etl
