// The Parquet writer's error category: the expected failures of building a file.
//
// Functions return `etl::parquet::result<T>` or an `error_code` built from `parquet::errc`; a
// rejected value leaves the writer as it was, so the caller can reject that record and go on.
// I/O failures come back as the system's own error codes (errno).
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <type_traits>

namespace etl::parquet {

using error_code = boost::system::error_code;

// An expected failure is a value: either a T or the error_code that says why not.
template <class T>
using result = boost::system::result<T, error_code>;

enum class errc {
  ok = 0,
  invalid_schema,         // no columns, an empty, duplicate or non-UTF-8 name
  invalid_options,        // a zero row-group or page budget
  wrong_column_count,     // a row or batch with another number of columns than the schema
  type_mismatch,          // a value of another kind than its column (never cast)
  out_of_range,           // an integer that does not fit its column's width
  null_in_required,       // a null in a REQUIRED column
  invalid_utf8,           // a STRING value that is not valid UTF-8
  batch_length_mismatch,  // the columns of a batch hold different numbers of values
  compression_failed,     // the codec refused a page
  too_large,              // a page or footer above what the format's 32-bit sizes can say
  writer_closed,          // a write after close(), or after an I/O error broke the file
  not_mergeable,          // merge_files: an input is not a Parquet file of the schema and codec
  unreadable,             // read_column_text: a page this library does not write, or cut short
};

// The category of `parquet::errc`; its name is "parquet".
const boost::system::error_category& parquet_category() noexcept;

inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), parquet_category()};
}

}  // namespace etl::parquet

template <>
struct boost::system::is_error_code_enum<etl::parquet::errc> : std::true_type {};
