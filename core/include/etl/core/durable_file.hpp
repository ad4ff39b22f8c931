// Writing files that survive a crash: a reader sees a whole file or none, and a name that was
// there when the call returned is there after a power cut. The audit dumps and the `files` sink
// write through these.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "etl/core/aliases.hpp"

namespace etl {

// Creates `dir` and the folders above it that are missing, flushing each new entry into its
// parent folder. Errors: the file system's.
error_code make_folders_durably(const std::filesystem::path& dir);

// Writes `data` to a temporary file in `dir`, flushes it to disk, renames it over `dir/name`
// (replacing a file of that name), then flushes `dir`. `dir` must exist. The temporary's name
// starts with '.' and ends with ".tmp-<pid>"; it is removed when the write fails. Errors: the
// file system's.
error_code write_file_durably(const std::filesystem::path& dir, std::string_view name,
                              std::string_view data);

// The same for a file another writer makes (a Parquet writer, say): `write` creates the
// temporary file at the path it is given; then it is flushed, renamed over `dir/name` and
// `dir` flushed. A failure of `write` or after it removes the temporary and is returned.
error_code publish_file_durably(
    const std::filesystem::path& dir, std::string_view name,
    const std::function<error_code(const std::filesystem::path&)>& write);

}  // namespace etl
