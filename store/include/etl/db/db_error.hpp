// The error codes of the Postgres layer, and the error value migrations return.
//
// Repository functions return `result<T>` whose error is a `db_errc` (or `etl::errc::
// invalid_argument` for a value outside a function's contract); the details behind a code (the
// SQLSTATE, the server's message) are logged where the failure is caught. Migrations return a
// `migration_error`, which also names the version and says what is wrong in words.
#pragma once

#include <string>
#include <type_traits>

#include <boost/assert/source_location.hpp>

#include "etl/core/aliases.hpp"

namespace etl {

enum class db_errc {
  ok = 0,
  connection_failed,  // no connection to Postgres (refused, dropped, restarting)
  query_failed,       // Postgres rejected a statement (constraint, syntax, bad value)
  timeout,            // a statement outlived statement_timeout or a lock wait was cancelled
  commit_in_doubt,    // the connection broke during COMMIT: the transaction may or may not hold
  conflict_retries_exhausted,  // serialization failures or deadlocks on every attempt
  not_found,                   // no task or batch with that id
  schema_missing,              // no schema_migrations table: the database was never migrated
  schema_too_old,              // the database lacks a migration this binary needs
  unknown_migration,           // the database records a migration this binary does not know
  checksum_mismatch,           // a recorded migration's text differs from this binary's copy
  invalid_migration,           // a migration file is badly named, duplicated or unreadable
};

// The category of `etl::db_errc`; its name is "etl.db".
const boost::system::error_category& db_category() noexcept;

inline error_code make_error_code(db_errc e) noexcept {
  return {static_cast<int>(e), db_category()};
}

// A failed migration step: the code plus a sentence naming the version and what is wrong.
struct migration_error {
  error_code code;
  std::string detail;
};

// Lets `result<T, migration_error>::value()` throw (start-up code may prefer that).
[[noreturn]] void throw_exception_from_error(const migration_error& e,
                                             const boost::source_location& loc);

}  // namespace etl

template <>
struct boost::system::is_error_code_enum<etl::db_errc> : std::true_type {};
