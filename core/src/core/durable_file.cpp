#include "etl/core/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
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
  const fs::path tmp = dir / ("." + std::string(name) + ".tmp-" + std::to_string(::getpid()));
  error_code ec = write(tmp);
  if (!ec)
    ec = sync_file(tmp);
  if (!ec && ::rename(tmp.c_str(), (dir / name).c_str()) != 0)
    ec = last_errno();
  if (ec) {
    ::unlink(tmp.c_str());
    return ec;
  }
  return sync_folder(dir);
}

error_code write_file_durably(const fs::path& dir, std::string_view name, std::string_view data) {
  return publish_file_durably(dir, name, [&](const fs::path& tmp) { return write_all(tmp, data); });
}

}  // namespace etl
