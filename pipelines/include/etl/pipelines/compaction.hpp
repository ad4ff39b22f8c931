// Compaction of a pipeline's Parquet output (docs/pipelines.md, "Compaction"): the files its
// batches wrote, many and small (one a batch), merged into one file per folder, swapped for
// them in the manifest in one transaction.
//
// For each Parquet files sink of the spec, the manifest's files of finished tasks (a running
// task may still add some) are grouped by folder (a partition, or a load day such as
// _extraction_date=...). A folder with two files or more is merged (parquet/merge.hpp: the row
// groups copied, no value decoded) into compacted-<task>-<n>.parquet there, written durably;
// then one transaction lists the new file and removes the inputs' rows, and fails (leaving
// everything as it was, the new file removed) unless every input was still listed: a window
// re-run that replaced them meanwhile wins. The inputs are deleted from disk after the commit.
// The run is a task of the pipeline (params {"compaction": true}), one batch a folder, so the
// task list and /metrics show it, and the new files belong to it in the manifest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/system/result.hpp>
#include <pqxx/connection>

#include "etl/pipelines/spec.hpp"

namespace etl {

struct compaction_report {
  std::string task_id;               // the compaction's own task
  int folders = 0;                   // merged
  std::int64_t files_in = 0;         // listed before, now replaced
  std::int64_t rows = 0;             // in the merged files
  std::vector<std::string> written;  // the new files, relative to the output root
};

// Compacts `spec`'s Parquet output under `root` with `conn`. Fails with the reason (a file that
// is not a Parquet file of its sink's columns, the file system's or Postgres's error); folders
// merged before the failure stay merged, the task then records the failure.
boost::system::result<compaction_report, std::string> compact_pipeline(
    pqxx::connection& conn, const pipeline_spec& spec, const std::filesystem::path& root);

}  // namespace etl
