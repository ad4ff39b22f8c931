// A batch of many pages that never holds its records. When every sink of a pipeline is a CSV or
// JSON Lines files sink (randomuser: 50,000 users in one batch), each page's typed records and
// child rows are appended to a spool as the page is read (an unnamed scratch file that vanishes
// with the process) and dropped; only their merge keys stay in memory. Once the pages are read,
// survey() reads the spool for the checks, and write() reads it again for the files.
//
// The result is what the batch held in memory gives (pipeline_batch.cpp): records merged by the
// source's key, the last of equal keys kept at its last position (merge_by_key), child rows as
// listed, each sink's rows merged again by the sink's key, the same checks over the merged
// records, the same files byte for byte.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "etl/core/aliases.hpp"
#include "etl/core/durable_file.hpp"
#include "etl/pipelines/checks.hpp"
#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

class streamed_batch {
 public:
  // Whether `spec`'s batches are read this way: every sink streams_rows, and the spec keeps no
  // incremental cursor (whose commit takes the batch's records).
  static bool suits(const pipeline_spec& spec);
  // A batch of `spec` (suits) spooled in `dir`, which must exist. Errors: the file system's.
  static result<streamed_batch> open(const pipeline_spec& spec, const std::filesystem::path& dir);

  // Appends one page's records (rows of spec.fields) and child rows (one list per
  // spec.children), in listing order, and clears both. Errors: the file system's.
  error_code add(std::vector<typed_record>& records,
                 std::vector<std::vector<typed_record>>& children);
  // Records added so far.
  std::int64_t listed() const noexcept { return listed_; }
  // Records left once merged by the source's key.
  std::int64_t kept() const noexcept { return static_cast<std::int64_t>(source_last_.size()); }

  // Reads the spool once: the checks over the merged records, and where each keyed sink's rows
  // last hold each key. Call once, after the last add(). Errors: the file system's, or a spool
  // line that does not read back (a bug).
  result<batch_quality> survey();
  // Reads the spool again and writes every sink's files under `root` as write_batch_files
  // would, durably; returns their manifest rows in sink order. Call after survey(). Errors: the
  // file system's.
  result<std::vector<output_file>> write(const std::filesystem::path& root,
                                         const batch_naming& naming);

 private:
  using key_map = std::unordered_map<std::string, std::int64_t>;
  // Where a sink's rows come from, and how they merge.
  struct sink_rows {
    int table = 0;                    // 0: the records; i + 1: child table i
    std::vector<std::size_t> key_at;  // its key among its fields; empty: rows as they come
    bool by_source_key = false;       // keyed like the source: the source merge did it
    key_map last;                     // key -> ordinal of its last row
  };

  streamed_batch(const pipeline_spec& spec, scratch_file file);
  // Calls `each(table, ordinal, row)` for every spooled row, in order; stops at the first error
  // `each` returns.
  template <class Each>
  error_code read_spool(Each&& each);
  // Whether record number `ordinal` survives the source merge.
  bool kept_record(const typed_record& r, std::int64_t ordinal) const;
  // Whether `row` (number `ordinal` of its table) is the one sink `s` keeps.
  bool sink_keeps(const sink_rows& s, const typed_record& row, std::int64_t ordinal) const;

  const pipeline_spec* spec_;
  scratch_file file_;
  std::vector<std::size_t> source_key_at_;  // the source's key (a spec always has one)
  key_map source_last_;                     // source key -> ordinal of the record that survives
  std::int64_t listed_ = 0;
  std::vector<sink_rows> sinks_;  // per spec.sinks
  std::string line_;
};

}  // namespace etl
