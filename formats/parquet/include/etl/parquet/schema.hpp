// What a Parquet file holds: its flat schema (columns with a type and a repetition) and the
// values a row carries, one variant a cell.
//
// Each column type maps to one physical type and, where it has one, a logical type:
//   int32 -> INT32, int64 -> INT64, float64 -> DOUBLE, boolean -> BOOLEAN,
//   string -> BYTE_ARRAY + STRING (UTF-8), date -> INT32 + DATE (days since 1970-01-01),
//   timestamp -> INT64 + TIMESTAMP(isAdjustedToUTC, MICROS) (microseconds since the epoch, UTC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace etl::parquet {

enum class column_type { int32, int64, float64, boolean, string, date, timestamp };

// A REQUIRED column refuses nulls; an OPTIONAL one stores them as definition level 0.
enum class repetition { required, optional };

struct column {
  std::string name;
  column_type type = column_type::string;
  repetition rep = repetition::optional;
};

struct schema {
  std::vector<column> columns;
};

// A DATE cell: days since 1970-01-01 (negative before it).
struct date {
  std::int32_t days = 0;
};

// A TIMESTAMP cell: microseconds since 1970-01-01T00:00:00Z.
struct timestamp {
  std::int64_t micros = 0;
};

// One cell. monostate is null. Which alternatives a column accepts (anything else is
// errc::type_mismatch, never a cast):
//   int32: int32_t, or int64_t within the 32-bit range (else errc::out_of_range)
//   int64: int32_t, int64_t     float64: double     boolean: bool
//   string: string_view (valid UTF-8, else errc::invalid_utf8; the bytes are copied)
//   date: date                  timestamp: timestamp
using value = std::variant<std::monostate, bool, std::int32_t, std::int64_t, double,
                           std::string_view, date, timestamp>;

}  // namespace etl::parquet
