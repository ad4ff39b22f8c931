// Writing files that survive a crash: a reader sees a whole file or none, and a name that was
// there when the call returned is there after a power cut. The audit dumps and the `files` sink
// write through these.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
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

// A file written piece by piece and then published as publish_file_durably does: appended to
// the same temporary in `dir`, then flushed, renamed over `dir/name` and `dir` flushed. For a
// file too large to build in memory (a batch's CSV of many pages). Its stream may be closed
// between appends, so that many such files need few descriptors. Destroyed unpublished, it
// removes its temporary.
class durable_file_writer {
 public:
  // Creates the temporary of `dir/name` (`dir` must exist). Errors: the file system's.
  static result<durable_file_writer> create(const std::filesystem::path& dir,
                                            std::string_view name);

  durable_file_writer(durable_file_writer&&) noexcept;
  durable_file_writer& operator=(durable_file_writer&&) noexcept;
  ~durable_file_writer();

  // Appends `data` (buffered), reopening the temporary if it was closed. Errors: the file
  // system's.
  error_code append(std::string_view data);
  // Closes the stream, keeping the temporary for the next append or publish. Errors: the file
  // system's (a write the buffer held failed).
  error_code close_for_now();
  // Whether the stream is open (it holds a descriptor).
  bool is_open() const noexcept { return file_ != nullptr; }
  // Flushes, renames the temporary over the final name and flushes the folder; once only.
  error_code publish();
  // Bytes appended so far.
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  durable_file_writer() = default;
  void discard() noexcept;

  std::filesystem::path dir_;
  std::string name_;
  std::filesystem::path tmp_;
  std::FILE* file_ = nullptr;
  bool pending_ = false;  // the temporary exists, neither published nor removed
  std::uint64_t bytes_ = 0;
};

// An open stdio stream, closed when it goes.
using scratch_file = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// An unnamed read-write file in `dir` that vanishes when closed, or when the process dies (a
// spool nobody else sees: O_TMPFILE, else a file unlinked at once). Errors: the file system's.
result<scratch_file> open_scratch_file(const std::filesystem::path& dir);

}  // namespace etl
