// The sweep of unlisted files (docs/pipelines.md, "The unlisted-file sweep"): a file is part of a
// pipeline's output exactly when the manifest (output_files) lists it, so a file on disk that no
// row lists is a leftover: a batch's file written before its worker died, when the batch's next
// run named its files otherwise (a partition whose records moved) or never ran again (its task
// was cancelled or failed); a temporary of a write cut short; a replaced file whose deletion
// failed. Readers of the manifest never see these; the sweep removes them from disk.
//
// Under each folder of the spec's files sinks, a regular file is removed when no manifest row
// (of any task or pipeline) lists it, its name is one the sink writes (its format's extension)
// or a temporary (".<name>.tmp-<pid>"), and it was last written before both `now - min_age` and
// the creation of the oldest task still queued or running: such a task's batch may be between
// writing a file and the commit that lists it. Other files (a README someone put there) are
// never touched. Emptied folders are left in place.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/system/result.hpp>
#include <pqxx/connection>

#include "etl/pipelines/spec.hpp"

namespace etl {

struct unlisted_sweep {
  std::vector<std::string> removed;  // relative to the output root, in path order
  std::int64_t listed = 0;           // files found that the manifest lists (kept)
  std::int64_t too_recent = 0;       // unlisted, kept because a running task may still list them
};

// Sweeps `spec`'s files sinks' folders under `root` with `conn`. Fails with the reason (Postgres's
// or the file system's error); files removed before the failure stay removed.
boost::system::result<unlisted_sweep, std::string> sweep_unlisted(
    pqxx::connection& conn, const pipeline_spec& spec, const std::filesystem::path& root,
    std::chrono::seconds min_age = std::chrono::minutes(5));

}  // namespace etl
