// A small pool of Postgres connections with its own threads: coroutines `co_await` a
// transaction without ever blocking their event loop.
//
// Each of the N threads of the pool's `net::thread_pool` borrows one of N `pqxx::connection`
// slots. A slot connects lazily on first use; a connection that breaks is dropped and reopened on
// the next use, so a Postgres restart shows up as `db_errc::connection_failed` values until the
// server is back, and never as an exception. A transaction that finds its pooled connection dead
// before committing is rerun once on a new connection, so the first use after the server is
// back succeeds. libpqxx exceptions stop at this boundary: they are
// logged with their SQLSTATE and query and turned into a `db_errc`. Serialization failures and
// deadlocks rerun the whole transaction a few times, so a transaction body must be safe to run
// more than once (it only touches the database, or only its own locals).
#pragma once

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <pqxx/connection>
#include <pqxx/transaction>

#include "etl/core/aliases.hpp"
#include "etl/core/blocking.hpp"
#include "etl/db/db_error.hpp"

namespace etl {

class db_pool {
 public:
  struct options {
    std::string url;              // postgresql://user@host:port/db, or a libpq key=value string
    std::size_t connections = 4;  // connections and threads (at least 1)
    int conflict_attempts = 4;    // runs of a transaction that hits serialization/deadlock
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds statement_timeout{30'000};  // also bounds every lock wait
  };

  // Starts the threads; connects nothing yet. Throws std::invalid_argument on an empty URL.
  explicit db_pool(options opts);
  // Stops the threads after the transactions in progress; closes the connections.
  ~db_pool();
  db_pool(const db_pool&) = delete;
  db_pool& operator=(const db_pool&) = delete;

  // Runs `f(tx)` in a read-committed transaction on a pool thread and commits it; returns what
  // `f` returned. Errors: connection_failed, query_failed, timeout, commit_in_doubt,
  // conflict_retries_exhausted. `f` may run several times (conflict retries); an exception
  // from `f` that is not a libpqxx one is a bug and is rethrown to the caller.
  template <class F>
  requires std::invocable<F&, pqxx::work&>
      net::awaitable<result<std::invoke_result_t<F&, pqxx::work&>>> run(F f) {
    using value_type = std::invoke_result_t<F&, pqxx::work&>;
    co_return co_await run_blocking(pool_.get_executor(), [this, f = std::move(f)]() mutable {
      return run_sync<value_type>([&](pqxx::work& tx) { return f(tx); });
    });
  }

  // Like run() but hands `f` the bare connection, for work that manages its own transactions
  // (migrations, advisory locks). Never retried. Errors as run().
  template <class F>
  requires std::invocable<F&, pqxx::connection&>
      net::awaitable<result<std::invoke_result_t<F&, pqxx::connection&>>> run_connection(F f) {
    using value_type = std::invoke_result_t<F&, pqxx::connection&>;
    co_return co_await run_blocking(pool_.get_executor(), [this, f = std::move(f)]() mutable {
      return run_connection_sync<value_type>([&](pqxx::connection& c) { return f(c); });
    });
  }

  // `SELECT 1` on a pooled connection: for readiness checks. Errors as run().
  net::awaitable<result<void>> ping();

  // The blocking forms of run() and run_connection(), for start-up code and tests: they block
  // the calling thread, so never call them on an event loop thread.
  template <class T, class F>
  result<T> run_sync(F&& f) {
    return run_erased<T>(false, [&](pqxx::work* tx, pqxx::connection*) { return f(*tx); });
  }
  template <class T, class F>
  result<T> run_connection_sync(F&& f) {
    return run_erased<T>(true, [&](pqxx::work*, pqxx::connection* c) { return f(*c); });
  }

  // The libpq connection string actually used (the URL plus timeouts and keepalives).
  const std::string& conninfo() const noexcept { return conninfo_; }

 private:
  struct slot {
    std::unique_ptr<pqxx::connection> conn;
  };

  template <class T, class F>
  result<T> run_erased(bool bare, F&& f) {
    if constexpr (std::is_void_v<T>) {
      error_code ec = run_once(bare, [&](pqxx::work* tx, pqxx::connection* c) { f(tx, c); });
      if (ec)
        return ec;
      return {};
    } else {
      std::optional<T> out;
      error_code ec = run_once(bare, [&](pqxx::work* tx, pqxx::connection* c) {
        out.reset();
        out.emplace(f(tx, c));
      });
      // in_place tags: T may itself be a result constructible from an error_code.
      if (ec)
        return result<T>(boost::system::in_place_error, ec);
      return result<T>(boost::system::in_place_value, std::move(*out));
    }
  }

  // Borrows a slot, (re)connects it if needed, runs `body` (inside a transaction unless `bare`),
  // retries conflicts, maps every libpqxx exception to a code.
  error_code run_once(bool bare, const std::function<void(pqxx::work*, pqxx::connection*)>& body);
  std::size_t acquire();
  void release(std::size_t index);

  options opts_;
  std::string conninfo_;
  std::mutex mutex_;
  std::condition_variable slot_freed_;
  std::vector<slot> slots_;
  std::vector<std::size_t> free_;
  net::thread_pool pool_;  // last: joined before the connections are destroyed
};

// Runs `sql` with `args` in `tx` as the statement `name`, prepared on the transaction's
// connection at its first use, so Postgres parses and plans it once per connection rather than
// once per call: for statements run per batch (bench/README.md, "What a claim costs Postgres").
// One name stands for one text; a second text under the same name throws (a bug).
template <class... Args>
pqxx::result exec_prepared_once(pqxx::work& tx, const std::string& name, const std::string& sql,
                                Args&&... args) {
  tx.conn().prepare(name, sql);  // only registers it, and only the first time
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace etl
