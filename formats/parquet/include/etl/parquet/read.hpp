// Reading back files this library wrote (etl-verify's check of a Parquet sink): how many rows a
// file holds, and one column's values as text. Only what the writer produces is read: DATA_PAGE
// v1 pages, PLAIN values, RLE/bit-packed definition levels, uncompressed, snappy or zstd; a file
// of another writer (dictionary pages, say) is refused rather than misread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "etl/parquet/error.hpp"
#include "etl/parquet/schema.hpp"

namespace etl::parquet {

// The rows a Parquet file holds, as its footer's row groups say (no value is read). Fails with
// errc::not_mergeable for a file that is not Parquet or whose footer cannot be read, with the
// system's error when the file cannot be read.
result<std::uint64_t> count_rows(const std::filesystem::path& path);

// A cell as value_text writes it: "" for null, "true"/"false", integers in decimal, a double
// with 17 significant digits, a string as is, a date as "date:<days since 1970-01-01>", a
// timestamp as "ts:<microseconds since the epoch>". Two cells of one column are equal exactly
// when their texts are.
std::string value_text(const value& v);

// The values of column `name` of `s` (the schema the file was written with), one text a row,
// in row order. Fails with errc::not_mergeable when the file is not Parquet or its column
// differs from `s`'s (name, type), errc::unreadable for a page this library does not write (or
// one cut short), the system's error when the file cannot be read.
result<std::vector<std::string>> read_column_text(const std::filesystem::path& path,
                                                  const schema& s, std::string_view name);

}  // namespace etl::parquet
