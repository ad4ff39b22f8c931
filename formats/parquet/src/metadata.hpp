// The Thrift structures of a Parquet file the writer emits (page headers and the footer's
// FileMetaData), encoded with the compact protocol. Field ids and enum values are the format
// specification's; only the fields this writer sets are written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/parquet/file_writer.hpp"
#include "etl/parquet/schema.hpp"

namespace etl::parquet::detail {

// Enum values from the specification.
enum class physical_type : std::int32_t {
  boolean = 0,
  int32 = 1,
  int64 = 2,
  double_ = 5,
  byte_array = 6
};
enum class encoding_id : std::int32_t { plain = 0, rle = 3 };

physical_type physical_of(column_type t) noexcept;
std::int32_t codec_id(codec c) noexcept;

// One column chunk's metadata (ColumnChunk with its ColumnMetaData and Statistics).
struct chunk_meta {
  std::int64_t num_values = 0;  // nulls included
  std::int64_t null_count = 0;
  std::int64_t total_uncompressed_size = 0;  // page headers included
  std::int64_t total_compressed_size = 0;    // page headers included
  std::int64_t data_page_offset = 0;
  std::optional<std::string> min_value;  // PLAIN bytes (no length prefix for strings)
  std::optional<std::string> max_value;
};

struct row_group_meta {
  std::vector<chunk_meta> columns;
  std::int64_t num_rows = 0;
  std::int64_t file_offset = 0;
};

// Appends a DATA_PAGE PageHeader with its DataPageHeader (PLAIN values, RLE levels).
void encode_data_page_header(std::vector<std::uint8_t>& out, std::int32_t uncompressed_size,
                             std::int32_t compressed_size, std::int32_t num_values);

// Appends the FileMetaData: version 1, the schema (a root and one leaf a column), the row
// groups, created_by and a TypeDefinedOrder for every column.
void encode_file_metadata(std::vector<std::uint8_t>& out, const schema& s, codec c,
                          std::int64_t num_rows, const std::vector<row_group_meta>& row_groups,
                          std::string_view created_by);

}  // namespace etl::parquet::detail
