// How a files sink's rows become a Parquet table: the schema of its columns and the writer's
// options from its compression. Private to the pipelines library (etl_parquet is a private
// dependency): the files sink writes with them, compaction checks and merges with them.
#pragma once

#include <span>

#include "etl/parquet/file_writer.hpp"
#include "etl/parquet/schema.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl::detail {

// One column a field, typed by the field (docs/parquet.md), OPTIONAL when it is nullable.
parquet::schema parquet_schema(std::span<const field_spec> columns);

// The writer's options for `sink` (its codec).
parquet::writer_options parquet_options(const sink_spec& sink);

}  // namespace etl::detail
