// How a files sink's rows become a Parquet table: the schema of its columns and the writer's
// options from its compression. Private to the pipelines library (etl_parquet is a private
// dependency): the files sink writes with them, compaction checks and merges with them.
#pragma once

#include <span>
#include <string>

#include <boost/json/value.hpp>

#include "etl/parquet/file_writer.hpp"
#include "etl/parquet/schema.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl::detail {

// One column a field, typed by the field (docs/parquet.md), OPTIONAL when it is nullable.
parquet::schema parquet_schema(std::span<const field_spec> columns);

// The writer's options for `sink` (its codec).
parquet::writer_options parquet_options(const sink_spec& sink);

// A typed value (records.hpp) as the cell of its column `f`. `text` keeps the bytes a string
// cell points to (a list's JSON text) alive while the cell is used.
parquet::value parquet_cell(const field_spec& f, const boost::json::value& v, std::string& text);

}  // namespace etl::detail
