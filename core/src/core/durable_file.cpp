#include "etl/core/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace etl {
namespace fs = std::filesystem;

namespace {

error_code last_errno() {
  return {errno, boost::system::system_category()};
}

// Writes all of `data` to `path` (publish_file_durably flushes it).
error_code write_all(const fs::path& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return last_errno();
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      auto ec = last_errno();
      ::close(fd);
      return ec;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    return last_errno();
  return {};
}

// Flushes a whole file's data to disk.
error_code sync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return last_errno();
  const bool synced = ::fsync(fd) == 0;
  auto ec = synced ? error_code{} : last_errno();
  ::close(fd);
  return ec;
}

// Flushes a folder's entries (a rename or a new file in it) to disk.
error_code sync_folder(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return last_errno();
  const bool synced = ::fsync(fd) == 0;
  auto ec = synced ? error_code{} : last_errno();
  ::close(fd);
  return ec;
}

// The temporary a durable write of `dir/name` goes through: hidden, and named by the process so
// that two writers of one name never share it (the unlisted-file sweep knows the pattern).
fs::path temporary_of(const fs::path& dir, std::string_view name) {
  return dir / ("." + std::string(name) + ".tmp-" + std::to_string(::getpid()));
}

// Renames the flushed temporary over `dir/name`, then flushes `dir`.
error_code rename_durably(const fs::path& tmp, const fs::path& dir, std::string_view name) {
  if (::rename(tmp.c_str(), (dir / name).c_str()) != 0)
    return last_errno();
  return sync_folder(dir);
}

}  // namespace

error_code make_folders_durably(const fs::path& dir) {
  // The missing folders, outermost first.
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    std::error_code sec;
    if (fs::is_directory(p, sec))
      break;
    missing.push_back(p);
    if (p == p.parent_path())
      break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::error_code sec;
    fs::create_directory(*it, sec);
    if (sec)
      return {sec.value(), boost::system::generic_category()};
    const auto parent = it->parent_path().empty() ? fs::path(".") : it->parent_path();
    if (auto ec = sync_folder(parent))
      return ec;
  }
  return {};
}

error_code publish_file_durably(const fs::path& dir, std::string_view name,
                                const std::function<error_code(const fs::path&)>& write) {
  const fs::path tmp = temporary_of(dir, name);
  error_code ec = write(tmp);
  if (!ec)
    ec = sync_file(tmp);
  if (!ec)
    ec = rename_durably(tmp, dir, name);
  if (ec)
    ::unlink(tmp.c_str());  // after a rename, nothing is left to remove
  return ec;
}

error_code write_file_durably(const fs::path& dir, std::string_view name, std::string_view data) {
  return publish_file_durably(dir, name, [&](const fs::path& tmp) { return write_all(tmp, data); });
}

result<durable_file_writer> durable_file_writer::create(const fs::path& dir,
                                                        std::string_view name) {
  durable_file_writer w;
  w.dir_ = dir;
  w.name_ = std::string(name);
  w.tmp_ = temporary_of(dir, name);
  w.file_ = std::fopen(w.tmp_.c_str(), "wbe");
  if (w.file_ == nullptr)
    return last_errno();
  w.pending_ = true;
  return w;
}

durable_file_writer::durable_file_writer(durable_file_writer&& o) noexcept
    : dir_(std::move(o.dir_)),
      name_(std::move(o.name_)),
      tmp_(std::move(o.tmp_)),
      file_(std::exchange(o.file_, nullptr)),
      pending_(std::exchange(o.pending_, false)),
      bytes_(o.bytes_) {}

durable_file_writer& durable_file_writer::operator=(durable_file_writer&& o) noexcept {
  if (this != &o) {
    discard();
    dir_ = std::move(o.dir_);
    name_ = std::move(o.name_);
    tmp_ = std::move(o.tmp_);
    file_ = std::exchange(o.file_, nullptr);
    pending_ = std::exchange(o.pending_, false);
    bytes_ = o.bytes_;
  }
  return *this;
}

durable_file_writer::~durable_file_writer() {
  discard();
}

void durable_file_writer::discard() noexcept {
  if (file_ != nullptr)
    std::fclose(std::exchange(file_, nullptr));
  if (std::exchange(pending_, false))
    ::unlink(tmp_.c_str());
}

error_code durable_file_writer::append(std::string_view data) {
  if (!pending_)
    return make_error_code(boost::system::errc::bad_file_descriptor);
  if (file_ == nullptr && (file_ = std::fopen(tmp_.c_str(), "abe")) == nullptr)
    return last_errno();
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size())
    return last_errno();
  bytes_ += data.size();
  return {};
}

error_code durable_file_writer::close_for_now() {
  if (file_ == nullptr)
    return {};
  if (std::fclose(std::exchange(file_, nullptr)) != 0)
    return last_errno();
  return {};
}

error_code durable_file_writer::publish() {
  if (!pending_)
    return make_error_code(boost::system::errc::bad_file_descriptor);
  error_code ec;
  if (file_ != nullptr) {
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
      ec = last_errno();
    if (std::fclose(std::exchange(file_, nullptr)) != 0 && !ec)
      ec = last_errno();
  } else {
    ec = sync_file(tmp_);
  }
  if (!ec)
    ec = rename_durably(tmp_, dir_, name_);
  if (ec)
    ::unlink(tmp_.c_str());
  pending_ = false;
  return ec;
}

result<scratch_file> open_scratch_file(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // A file system without O_TMPFILE: a named file, unlinked before anything is written.
    std::string pattern = (dir / ".scratch-XXXXXX").string();
    fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd >= 0)
      ::unlink(pattern.c_str());
  }
  if (fd < 0)
    return last_errno();
  std::FILE* f = ::fdopen(fd, "w+b");
  if (f == nullptr) {
    auto ec = last_errno();
    ::close(fd);
    return ec;
  }
  return scratch_file(f, &std::fclose);
}

}  // namespace etl
