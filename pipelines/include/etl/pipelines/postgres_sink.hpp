// The `postgres` sink: a batch's typed records upserted into the sink's table inside the
// transaction that records the batch (batch_result::in_transaction), so the rows and the batch's
// "done" commit together or not at all. Records with the same key within the batch are merged
// first (the last one wins): Postgres refuses an ON CONFLICT statement that touches a row twice.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <pqxx/transaction>

#include "etl/db/db_pool.hpp"
#include "etl/db/migrations.hpp"

#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

// The upsert statement for `sink`: INSERT ... SELECT from jsonb_populate_recordset (so each
// value is converted by the table's own column type: an enum, a text[], a timestamptz) ON
// CONFLICT (key) DO UPDATE SET every other column (DO NOTHING when every column is key).
// $1 is the JSON array of row objects.
std::string upsert_sql(const sink_spec& sink);

// The JSON array of row objects (sink columns only) the statement takes.
std::string upsert_rows_json(std::span<const field_spec> fields, const sink_spec& sink,
                             std::span<const typed_record> records);

// Merges and upserts `records` (rows of `fields`: the sink's input) into `sink`'s table in `tx`;
// returns the rows written.
// Throws what libpqxx throws (a missing table or column, a value the column refuses): the
// caller's transaction, and with it the batch's record, then fails as a whole.
std::int64_t upsert_records(pqxx::work& tx, const sink_spec& sink,
                            std::span<const field_spec> fields,
                            std::span<const typed_record> records);

// Applies `spec`'s own migrations (spec.migrations: the tables its postgres sinks write) that
// the database lacks, recorded under the pipeline's name. Blocks: call it at start-up
// (etl-server --migrate-only). Errors as apply_migrations, naming the pipeline.
migration_result<migration_report> apply_pipeline_migrations(db_pool& db,
                                                             const pipeline_spec& spec);

}  // namespace etl
