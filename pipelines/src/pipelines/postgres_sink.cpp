#include "etl/pipelines/postgres_sink.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace etl {
namespace {

namespace js = boost::json;

std::string quoted(const std::string& name) {
  // Names are snake_case (the loader checks): quoting only keeps reserved words usable.
  return "\"" + name + "\"";
}

std::string quoted_table(const std::string& table) {
  const auto dot = table.find('.');
  return quoted(table.substr(0, dot)) + "." + quoted(table.substr(dot + 1));
}

}  // namespace

std::string upsert_sql(const sink_spec& sink) {
  std::string cols, keys, updates;
  for (const auto& c : sink.columns) {
    cols += (cols.empty() ? "" : ", ") + quoted(c);
    if (std::find(sink.key.begin(), sink.key.end(), c) == sink.key.end())
      updates += (updates.empty() ? "" : ", ") + quoted(c) + " = EXCLUDED." + quoted(c);
  }
  for (const auto& k : sink.key)
    keys += (keys.empty() ? "" : ", ") + quoted(k);
  const auto table = quoted_table(sink.table);
  return "INSERT INTO " + table + " (" + cols + ") SELECT " + cols +
         " FROM jsonb_populate_recordset(NULL::" + table + ", $1::jsonb) ON CONFLICT (" + keys +
         ") " + (updates.empty() ? "DO NOTHING" : "DO UPDATE SET " + updates);
}

std::string upsert_rows_json(std::span<const field_spec> fields, const sink_spec& sink,
                             std::span<const typed_record> records) {
  const auto at = field_indexes(fields, sink.columns);
  js::array rows;
  rows.reserve(records.size());
  for (const auto& r : records) {
    js::object o;
    o.reserve(at.size());
    for (std::size_t i = 0; i < at.size(); ++i)
      o.emplace(sink.columns[i], r.values.at(at[i]));
    rows.emplace_back(std::move(o));
  }
  return js::serialize(rows);
}

std::int64_t upsert_records(pqxx::work& tx, const sink_spec& sink,
                            std::span<const field_spec> fields,
                            std::span<const typed_record> records) {
  const auto merged = merge_by_key(fields, sink.key, records);
  if (merged.empty())
    return 0;
  tx.exec_params(upsert_sql(sink), upsert_rows_json(fields, sink, merged));
  return static_cast<std::int64_t>(merged.size());
}

migration_result<migration_report> apply_pipeline_migrations(db_pool& db,
                                                             const pipeline_spec& spec) {
  std::vector<migration> known;
  for (const auto& m : spec.migrations) {
    char version[8];
    std::snprintf(version, sizeof version, "%04d", m.version);
    known.push_back({m.version, std::string(version) + "_" + m.name, m.sql, fnv1a64_hex(m.sql)});
  }
  auto r = db.run_connection_sync<migration_result<migration_report>>(
      [&](pqxx::connection& conn) { return apply_pipeline_migrations(conn, spec.name, known); });
  if (!r)
    return migration_error{r.error(),
                           "pipeline " + spec.name + ": database: " + r.error().message()};
  return std::move(*r);
}

}  // namespace etl
