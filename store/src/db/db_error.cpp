#include "etl/db/db_error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace etl {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "etl.db"; }

  std::string message(int ev) const override {
    switch (static_cast<db_errc>(ev)) {
      case db_errc::ok:
        return "success";
      case db_errc::connection_failed:
        return "no connection to the database";
      case db_errc::query_failed:
        return "the database rejected a statement";
      case db_errc::timeout:
        return "database statement timed out";
      case db_errc::commit_in_doubt:
        return "connection lost during commit: the outcome is unknown";
      case db_errc::conflict_retries_exhausted:
        return "database transaction conflicted on every attempt";
      case db_errc::not_found:
        return "no such row";
      case db_errc::schema_missing:
        return "the database has no schema_migrations table (run the migrations)";
      case db_errc::schema_too_old:
        return "the database schema is older than this binary needs (run the migrations)";
      case db_errc::unknown_migration:
        return "the database records a migration this binary does not know";
      case db_errc::checksum_mismatch:
        return "a recorded migration differs from this binary's copy";
      case db_errc::invalid_migration:
        return "invalid migration file";
    }
    return "unknown etl.db error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& db_category() noexcept {
  static const category instance;
  return instance;
}

void throw_exception_from_error(const migration_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.detail), loc);
}

}  // namespace etl
