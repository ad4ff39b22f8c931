// The `files` sink's writing half: a batch's typed records as CSV (RFC 4180), JSON Lines or
// Parquet (columns typed by the spec's fields: int INT64, number DOUBLE, bool BOOLEAN, date
// DATE, date_time and epoch_ms TIMESTAMP(UTC, micros), strings and lists as STRING, nullable
// fields OPTIONAL), one file per batch and partition, written durably under a name fixed by (task,
// batch, partition), so a batch's next run rewrites the same files instead of adding new ones. The
// other half, the manifest row that makes a file part of the output, is inserted in the transaction
// that records the batch (pipeline_batch.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etl/core/aliases.hpp"
#include "etl/core/durable_file.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

// A file a sink wrote, as its manifest row records it.
struct output_file {
  std::string path;       // relative to the output root, '/'-separated
  int sink = 0;           // the sink's index in the spec
  std::string partition;  // "<field>=<value>", empty for an unpartitioned sink
  std::int64_t rows = 0;
  std::int64_t bytes = 0;
};

// The records as CSV: a header of the field names, then one line per record, CRLF line ends,
// a value quoted when it holds a comma, a quote, CR or LF (quotes doubled). null is an empty
// cell; a list is its JSON text; numbers and booleans as JSON writes them.
std::string to_csv(std::span<const field_spec> fields, std::span<const typed_record> records);

// The records as JSON Lines: one object per record, keys in field order, LF line ends.
std::string to_jsonl(std::span<const field_spec> fields, std::span<const typed_record> records);

// A partition value as a folder name: characters other than [A-Za-z0-9._-] percent-encoded
// (as Hive does), so a value never makes a path of its own.
std::string partition_folder_value(const boost::json::value& v);

// What names a batch's files: the file_name placeholders' values.
struct batch_naming {
  std::string task_id;
  std::string task_date;  // the task's UTC day, YYYYMMDD
  int batch_no = 0;
  std::string task_day;  // the same day as YYYY-MM-DD ({task.day})
};

// `sink`'s file_name with its placeholders filled in, and the format's extension.
std::string batch_file_name(const sink_spec& sink, const batch_naming& naming);

// Writes `sink` (a files sink, number `sink_index` of its spec) for one batch under `root`:
// <folder>/[<partition_by>=<value>/]<file name>.<csv|jsonl|parquet>, each partition
// holding its own records (rows of `fields`, the sink's input) in batch order, merged by the
// sink's key if it has one; nothing for a partition without records. Each file is written
// durably. Errors: the file system's (a file may then be left written, unlisted: the next run
// rewrites it).
result<std::vector<output_file>> write_batch_files(const std::filesystem::path& root,
                                                   const sink_spec& sink, int sink_index,
                                                   std::span<const field_spec> fields,
                                                   std::span<const typed_record> records,
                                                   const batch_naming& naming);

// Whether `sink` can be written row by row (file_sink_stream): a CSV or JSON Lines files sink of
// records or child rows.
bool streams_rows(const sink_spec& sink) noexcept;

// One batch's files of a CSV or JSON Lines sink written row by row, so that a batch of many
// pages never holds its rows: each row goes to its partition's temporary file as it comes (at
// most max_open_files of them open at once), and publish() makes every file durable under its
// name. The files are what write_batch_files
// writes for the same rows; rows are not merged here (the caller passes each key once).
class file_sink_stream {
 public:
  static constexpr std::size_t max_open_files = 32;

  // For `sink` (streams_rows; number `sink_index` of its spec) taking rows of `fields`.
  file_sink_stream(std::filesystem::path root, const sink_spec& sink, int sink_index,
                   std::span<const field_spec> fields, const batch_naming& naming);
  file_sink_stream(const file_sink_stream&) = delete;
  file_sink_stream& operator=(const file_sink_stream&) = delete;

  // Appends `row` to its partition's file, creating the file (and its folders) on its first
  // row. Errors: the file system's.
  error_code add(const typed_record& row);
  // Publishes every file (durably, in partition order) and returns their manifest rows; a
  // partition without rows has no file. Errors: the file system's (files published before the
  // failure stay, unlisted: the batch's next run rewrites them).
  result<std::vector<output_file>> publish();

 private:
  struct part {
    std::filesystem::path rel;  // the file, relative to the root
    std::optional<durable_file_writer> file;
    std::int64_t rows = 0;
  };
  result<part*> part_of(const typed_record& row);
  // Closes the longest-open files until another may open (a batch may have a partition a row).
  error_code make_room();

  std::filesystem::path root_;
  const sink_spec& sink_;
  int sink_index_;
  std::vector<std::size_t> at_;  // the sink's columns among the fields
  std::vector<field_spec> columns_;
  std::size_t by_;  // the partition field's position; fields.size() when unpartitioned
  std::filesystem::path file_name_;
  std::map<std::string, part> parts_;
  std::deque<part*> open_;  // parts whose file is open, oldest first
  std::string line_;        // reused for each row
};

// Writes `sink` (a files sink of pages) for one batch: every answer in `pages` (each one JSON
// line) as a line of <folder>/<file name>.jsonl, durably. Errors as write_batch_files.
result<output_file> write_batch_pages(const std::filesystem::path& root, const sink_spec& sink,
                                      int sink_index, std::span<const std::string> pages,
                                      const batch_naming& naming);

}  // namespace etl
