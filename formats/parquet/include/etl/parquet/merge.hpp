// Merging Parquet files this library wrote into one, without decoding a value: the output holds
// every input's row groups, their column chunks copied byte for byte, under one footer (the
// inputs' chunk metadata with the chunks' new offsets). What compaction needs: many small files
// of one table become one file with the same rows, in input order.
//
// Only files of the same schema and codec as the caller names are merged: the footer of each
// input is read (Thrift compact protocol, its fields found by id and unknown ones skipped) and
// checked against them, column by column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "etl/parquet/error.hpp"
#include "etl/parquet/file_writer.hpp"
#include "etl/parquet/schema.hpp"

namespace etl::parquet {

struct merge_summary {
  std::uint64_t rows = 0;
  std::uint64_t row_groups = 0;
  std::uint64_t bytes = 0;  // the output's size
};

// Writes `output` (created or truncated) from `inputs`, in order. Fails, leaving `output` to the
// caller to remove, with errc::not_mergeable for an input that is not a Parquet file, or
// whose columns (names, physical types, repetition) or codec differ from `s` and `c`; with the
// system's error when a file cannot be read or written. The caller owns durability (fsync and
// rename), as for file_writer.
result<merge_summary> merge_files(std::span<const std::filesystem::path> inputs,
                                  const std::filesystem::path& output, const schema& s, codec c,
                                  const std::string& created_by = writer_options{}.created_by);

}  // namespace etl::parquet
