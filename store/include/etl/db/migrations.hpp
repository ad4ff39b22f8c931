// Schema migrations: `migrations/NNNN_name.sql`, forward only, applied in version order, once
// each, each in its own transaction, under a Postgres advisory lock so that concurrent starters
// serialize; recorded in `schema_migrations(version, name, checksum, applied_at)`.
//
// Primary source: the SQL files are embedded into the library at build time (CMake reads
// migrations/*.sql into a generated .cpp), so an installed binary needs no files;
// `embedded_migrations()` is that set. `load_migrations(dir)` reads a directory at run time
// instead, for tools and tests. The checksum is FNV-1a 64 of the file's bytes, as 16 lower-case
// hex digits: it detects an edited migration, it is not a security measure.
//
// The functions taking a `pqxx::connection&` or a `db_pool&` block the calling thread: call
// them at start-up before serving, or through `db_pool::run_connection`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>
#include <pqxx/connection>

#include "etl/db/db_error.hpp"

namespace etl {

class db_pool;

struct migration {
  int version = 0;       // NNNN
  std::string name;      // the file name without ".sql", e.g. "0001_initial"
  std::string sql;       // the file's text
  std::string checksum;  // fnv1a64_hex(sql)
};

template <class T>
using migration_result = boost::system::result<T, migration_error>;

struct migration_report {
  std::vector<int> applied;  // versions applied by this call, in order (empty: up to date)
  int schema_version = 0;    // the highest recorded version afterwards
};

// FNV-1a 64 of `text`, as 16 lower-case hex digits.
std::string fnv1a64_hex(std::string_view text);

// "0001_initial.sql" -> {1, "0001_initial"}; nullopt unless the name is 4+ digits, '_', a name
// of [a-z0-9_], ".sql".
std::optional<std::pair<int, std::string>> parse_migration_filename(std::string_view filename);

// Validates and sorts (file name, text) pairs. Errors: invalid_migration naming the file (bad
// name, duplicate version, empty text).
migration_result<std::vector<migration>> make_migrations(
    std::vector<std::pair<std::string, std::string>> files);

// The migrations built into the library, sorted by version.
std::span<const migration> embedded_migrations();

// The schema version this build needs: the highest embedded version.
int required_schema_version();

// Reads every *.sql file of `dir`. Errors: invalid_migration (unreadable directory or file, or as
// make_migrations).
migration_result<std::vector<migration>> load_migrations(const std::filesystem::path& dir);

// Applies the migrations of `known` that the database lacks, in order, each in its own
// transaction, holding a session advisory lock meanwhile. Refuses, before applying anything, a
// database that records a version missing from `known` (unknown_migration) or whose recorded
// checksum differs (checksum_mismatch). Errors also: query_failed naming the failing version,
// connection_failed.
migration_result<migration_report> apply_migrations(
    pqxx::connection& conn, std::span<const migration> known = embedded_migrations());
migration_result<migration_report> apply_migrations(
    db_pool& db, std::span<const migration> known = embedded_migrations());

// apply_migrations for a pipeline's own migrations (its tables), recorded in
// pipeline_migrations under `pipeline` (a table the service's migrations create: apply those
// first). Same lock, same refusals, errors naming the pipeline.
migration_result<migration_report> apply_pipeline_migrations(pqxx::connection& conn,
                                                             const std::string& pipeline,
                                                             std::span<const migration> known);

// Checks, without changing anything, that the database holds every migration of `known` with the
// same checksum; returns the highest recorded version. A recorded version newer than `known` is
// accepted (a newer binary migrated forward; migrations only add). Errors: schema_missing,
// schema_too_old naming the first missing version, checksum_mismatch, connection_failed,
// query_failed.
migration_result<int> check_schema(pqxx::connection& conn,
                                   std::span<const migration> known = embedded_migrations());
migration_result<int> check_schema(db_pool& db,
                                   std::span<const migration> known = embedded_migrations());

namespace detail {

struct embedded_migration_file {
  std::string_view filename;
  std::string_view text;
};

// Defined in the .cpp that CMake generates from migrations/*.sql.
std::span<const embedded_migration_file> embedded_migration_files() noexcept;

}  // namespace detail

}  // namespace etl
