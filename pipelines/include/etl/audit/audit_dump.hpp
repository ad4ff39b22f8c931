// Audit dumps (docs/architecture.md, "Audit mode"): `${ETL_AUDIT_DIR}/<task_id>/batch-<n>.json`,
// one JSON array of the ids in one POST to home, written atomically after home's 2xx.
//
// The task id becomes a folder name, so it is checked to be a canonical UUID, lower case as the
// server hands them out (is_canonical_uuid): nothing, not even a forged job, names a folder
// outside the audit directory or a second folder for the same task.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etl/core/aliases.hpp"

namespace etl {

// Writes the dump of one batch: a temporary file in the task's folder, flushed to disk, then
// renamed over `batch-<n>.json`, so a reader sees the whole file or none; then the folder is
// flushed too, so the name survives a crash once this returns. Creates the folders.
// Errors: errc::invalid_argument for a task id that is not a canonical UUID or a negative
// batch number; the file system's errors.
error_code write_audit_dump(const std::filesystem::path& audit_dir, std::string_view task_id,
                            int batch_no, std::span<const std::int64_t> ids);

// Every dump of a task, by batch number. Errors: errc::invalid_argument for a task id that is
// not a canonical UUID;
// no_such_file_or_directory when the task has no folder; errc::parse_error (naming the file
// in `why`) for a dump that is not a JSON array of integers.
result<std::map<int, std::vector<std::int64_t>>> read_audit_dumps(
    const std::filesystem::path& audit_dir, std::string_view task_id, std::string* why = nullptr);

}  // namespace etl
