#include "etl/db/migrations.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "etl/db/db_pool.hpp"

namespace etl {
namespace {

// pg_advisory_lock key of the migration runner: "etl_migr" as 8 ASCII bytes.
constexpr std::int64_t migration_lock_key = 0x65746c5f6d696772;

struct recorded_migration {
  int version;
  std::string name;
  std::string checksum;
};

std::string version_name(int version) {
  return fmt::format("{:04}", version);
}

migration_error failure(db_errc code, std::string detail) {
  return {make_error_code(code), std::move(detail)};
}

// Maps a libpqxx exception escaping a migration step to an error value naming the step.
migration_error from_exception(const std::exception& e, const std::string& step) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr)
    return failure(db_errc::connection_failed, step + ": connection lost: " + e.what());
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr)
    return failure(db_errc::commit_in_doubt, step + ": commit outcome unknown: " + e.what());
  return failure(db_errc::query_failed, step + ": " + e.what());
}

bool has_migrations_table(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return !tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null();
}

// What `pipeline`'s migrations recorded (empty: the service's own, in schema_migrations).
std::vector<recorded_migration> read_recorded(pqxx::connection& conn, const std::string& pipeline) {
  pqxx::nontransaction tx(conn);
  std::vector<recorded_migration> out;
  const auto rows =
      pipeline.empty()
          ? tx.exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
          : tx.exec_params(
                "SELECT version, name, checksum FROM pipeline_migrations WHERE pipeline = $1 "
                "ORDER BY version",
                pipeline);
  for (const auto& row : rows)
    out.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>()});
  return out;
}

void record_applied(pqxx::work& tx, const std::string& pipeline, const migration& m) {
  if (pipeline.empty()) {
    tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                   m.version, m.name, m.checksum);
  } else {
    tx.exec_params(
        "INSERT INTO pipeline_migrations (pipeline, version, name, checksum) "
        "VALUES ($1, $2, $3, $4)",
        pipeline, m.version, m.name, m.checksum);
  }
}

const migration* find_known(std::span<const migration> known, int version) {
  auto it = std::find_if(known.begin(), known.end(),
                         [&](const migration& m) { return m.version == version; });
  return it == known.end() ? nullptr : &*it;
}

std::optional<migration_error> check_checksum(const recorded_migration& r, const migration& m) {
  if (r.checksum == m.checksum)
    return std::nullopt;
  return failure(db_errc::checksum_mismatch,
                 fmt::format("migration {} ({}): the database recorded checksum {} but this "
                             "binary's copy has {}: a migration was edited after it was applied",
                             version_name(r.version), r.name, r.checksum, m.checksum));
}

// Unlocks the session advisory lock however the runner leaves; if the connection broke, the
// server already released it with the session.
struct advisory_unlock {
  pqxx::connection& conn;
  ~advisory_unlock() {
    try {
      if (conn.is_open()) {
        pqxx::nontransaction tx(conn);
        tx.exec_params("SELECT pg_advisory_unlock($1)", migration_lock_key);
      }
    } catch (const std::exception& e) {
      spdlog::warn("migrations: could not release the advisory lock: {}", e.what());
    }
  }
};

migration_result<migration_report> apply_locked(pqxx::connection& conn,
                                                std::span<const migration> known,
                                                const std::string& pipeline) {
  // A pipeline's migrations are recorded in pipeline_migrations, which the service's own create.
  const std::string owner = pipeline.empty() ? "" : "pipeline " + pipeline + ": ";
  if (pipeline.empty()) {
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  const auto recorded = read_recorded(conn, pipeline);
  for (const auto& r : recorded) {
    const migration* m = find_known(known, r.version);
    if (m == nullptr)
      return failure(db_errc::unknown_migration,
                     fmt::format("{}the database records migration {} ({}) which this binary "
                                 "does not know: it was migrated by a newer or different build",
                                 owner, version_name(r.version), r.name));
    if (auto e = check_checksum(r, *m))
      return *e;
  }
  migration_report report;
  for (const auto& m : known) {
    const bool done =
        std::any_of(recorded.begin(), recorded.end(),
                    [&](const recorded_migration& r) { return r.version == m.version; });
    if (done)
      continue;
    try {
      pqxx::work tx(conn);
      tx.exec(m.sql);
      record_applied(tx, pipeline, m);
      tx.commit();
    } catch (const pqxx::failure& e) {
      return from_exception(e, owner + "migration " + m.name);
    }
    spdlog::info("migrations: {}applied {}", owner, m.name);
    report.applied.push_back(m.version);
  }
  for (const auto& r : read_recorded(conn, pipeline))
    report.schema_version = std::max(report.schema_version, r.version);
  return report;
}

template <class T>
migration_result<T> via_pool(db_pool& db, std::function<migration_result<T>(pqxx::connection&)> f) {
  auto r = db.run_connection_sync<migration_result<T>>(f);
  if (!r)
    return migration_error{r.error(), std::string("database: ") + r.error().message()};
  return std::move(*r);
}

}  // namespace

std::string fnv1a64_hex(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return fmt::format("{:016x}", h);
}

std::optional<std::pair<int, std::string>> parse_migration_filename(std::string_view filename) {
  if (!filename.ends_with(".sql"))
    return std::nullopt;
  const std::string_view stem = filename.substr(0, filename.size() - 4);
  const auto underscore = stem.find('_');
  if (underscore == std::string_view::npos || underscore < 4 || underscore > 9 ||
      underscore + 1 == stem.size())
    return std::nullopt;
  int version = 0;
  for (char c : stem.substr(0, underscore)) {
    if (c < '0' || c > '9')
      return std::nullopt;
    version = version * 10 + (c - '0');
  }
  for (char c : stem.substr(underscore + 1))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return std::nullopt;
  if (version <= 0)
    return std::nullopt;
  return std::pair{version, std::string(stem)};
}

migration_result<std::vector<migration>> make_migrations(
    std::vector<std::pair<std::string, std::string>> files) {
  std::vector<migration> out;
  for (auto& [filename, text] : files) {
    auto parsed = parse_migration_filename(filename);
    if (!parsed)
      return failure(db_errc::invalid_migration,
                     "migration file '" + filename +
                         "' is not named NNNN_name.sql (4+ digits from 0001, lower-case name)");
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      return failure(db_errc::invalid_migration, "migration file '" + filename + "' is empty");
    out.push_back({parsed->first, std::move(parsed->second), std::move(text), {}});
    out.back().checksum = fnv1a64_hex(out.back().sql);
  }
  std::sort(out.begin(), out.end(),
            [](const migration& a, const migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].version == out[i - 1].version)
      return failure(db_errc::invalid_migration,
                     fmt::format("migrations {} and {} share version {}", out[i - 1].name,
                                 out[i].name, version_name(out[i].version)));
  return out;
}

std::span<const migration> embedded_migrations() {
  // Built once; a bad embedded set is a build error, so it throws at start-up.
  static const std::vector<migration> all = [] {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& f : detail::embedded_migration_files())
      files.emplace_back(std::string(f.filename), std::string(f.text));
    return make_migrations(std::move(files)).value();
  }();
  return all;
}

int required_schema_version() {
  const auto all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

migration_result<std::vector<migration>> load_migrations(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec)
    return failure(db_errc::invalid_migration,
                   "cannot read migration directory " + dir.string() + ": " + ec.message());
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : it) {
    if (entry.path().extension() != ".sql")
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in)
      return failure(db_errc::invalid_migration, "cannot read " + entry.path().string());
    files.emplace_back(entry.path().filename().string(), text.str());
  }
  return make_migrations(std::move(files));
}

// apply_migrations and apply_pipeline_migrations: the runner under its advisory lock.
static migration_result<migration_report> apply_under_lock(pqxx::connection& conn,
                                                           std::span<const migration> known,
                                                           const std::string& pipeline) {
  try {
    {
      pqxx::nontransaction tx(conn);
      // Bounded by the connection's statement_timeout when a runner holds the lock too long.
      tx.exec_params("SELECT pg_advisory_lock($1)", migration_lock_key);
    }
    advisory_unlock unlock{conn};
    return apply_locked(conn, known, pipeline);
  } catch (const pqxx::failure& e) {
    return from_exception(e,
                          pipeline.empty() ? "migrations" : "pipeline " + pipeline + " migrations");
  }
}

migration_result<migration_report> apply_migrations(pqxx::connection& conn,
                                                    std::span<const migration> known) {
  return apply_under_lock(conn, known, "");
}

migration_result<migration_report> apply_migrations(db_pool& db, std::span<const migration> known) {
  return via_pool<migration_report>(
      db, [&](pqxx::connection& conn) { return apply_migrations(conn, known); });
}

migration_result<migration_report> apply_pipeline_migrations(pqxx::connection& conn,
                                                             const std::string& pipeline,
                                                             std::span<const migration> known) {
  if (pipeline.empty())
    return failure(db_errc::invalid_migration, "a pipeline's migrations need its name");
  return apply_under_lock(conn, known, pipeline);
}

migration_result<int> check_schema(pqxx::connection& conn, std::span<const migration> known) {
  try {
    if (!has_migrations_table(conn))
      return failure(db_errc::schema_missing,
                     "the database has no schema_migrations table: run etl-server "
                     "--migrate-only");
    const auto recorded = read_recorded(conn, "");
    int highest = 0;
    for (const auto& r : recorded) {
      highest = std::max(highest, r.version);
      if (const migration* m = find_known(known, r.version))
        if (auto e = check_checksum(r, *m))
          return *e;
    }
    for (const auto& m : known) {
      const bool done =
          std::any_of(recorded.begin(), recorded.end(),
                      [&](const recorded_migration& r) { return r.version == m.version; });
      if (!done)
        return failure(db_errc::schema_too_old,
                       fmt::format("the database lacks migration {} that this binary needs "
                                   "(schema version {}, required {}): run etl-server "
                                   "--migrate-only",
                                   m.name, highest, known.empty() ? 0 : known.back().version));
    }
    return highest;
  } catch (const pqxx::failure& e) {
    return from_exception(e, "schema check");
  }
}

migration_result<int> check_schema(db_pool& db, std::span<const migration> known) {
  return via_pool<int>(db, [&](pqxx::connection& conn) { return check_schema(conn, known); });
}

}  // namespace etl
