// The Parquet file writer: rows or column batches in, a file the readers of the field accept out.
//
// PLAIN values, RLE/bit-packed definition levels for OPTIONAL columns, DataPage v1 pages of
// bounded size, codecs UNCOMPRESSED, SNAPPY or ZSTD, min/max/null-count statistics per column
// chunk, row groups cut by a row count and a byte budget (what is buffered is bounded by it),
// and the footer in Thrift compact protocol. The caller owns durability: close() writes the
// footer; temp file, fsync and rename are the `files` sink's job. See docs/parquet.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "etl/parquet/error.hpp"
#include "etl/parquet/schema.hpp"

namespace etl::parquet {

enum class codec { uncompressed, snappy, zstd };

struct writer_options {
  codec compression = codec::snappy;
  int zstd_level = 3;
  // A row group is written once it holds this many rows ...
  std::size_t row_group_rows = 1'000'000;
  // ... or once its encoded (compressed pages plus open pages) bytes reach this.
  std::size_t row_group_bytes = 64u << 20;
  // A page is closed once its encoded levels and values reach this many bytes.
  std::size_t page_bytes = 1u << 20;
  // The footer's created_by.
  std::string created_by = "animals-etl version 0.1.0";
};

class file_writer {
 public:
  // Creates (or truncates) `path` and writes the leading magic. Fails on a bad schema or options,
  // or with the system's error when the file cannot be created.
  static result<file_writer> create(const std::filesystem::path& path, schema s,
                                    writer_options options = {});
  // Writes to an open file descriptor, from its current position; the descriptor stays the
  // caller's (close() does not close it).
  static result<file_writer> adopt_fd(int fd, schema s, writer_options options = {});

  file_writer(file_writer&&) noexcept;
  file_writer& operator=(file_writer&&) noexcept;
  // Without close(), an owned descriptor is closed and the file left without a footer.
  ~file_writer();

  // Appends one row, a value a column in schema order. A value that does not fit its column
  // rejects the whole row with that error and leaves the writer unchanged.
  error_code write_row(std::span<const value> row);
  // Appends columns[i][r] as row r's i-th value; all or nothing, like write_row.
  error_code write_columns(std::span<const std::span<const value>> columns);
  // Writes the buffered rows as a row group now (nothing when none are buffered).
  error_code flush_row_group();
  // Writes the last row group and the footer; an owned descriptor is closed. An I/O error here
  // or earlier is reported and the file must be discarded.
  error_code close();

  // Rows accepted so far, buffered ones included (refused rows are not counted).
  std::uint64_t rows_written() const noexcept;
  // Bytes written to the file so far (the footer included after close()).
  std::uint64_t bytes_written() const noexcept;

 private:
  struct impl;
  explicit file_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace etl::parquet
