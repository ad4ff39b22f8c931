#include "etl/audit/audit_dump.hpp"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "etl/core/durable_file.hpp"
#include "etl/core/error.hpp"
#include "etl/core/uuid.hpp"

namespace etl {
namespace fs = std::filesystem;

error_code write_audit_dump(const fs::path& audit_dir, std::string_view task_id, int batch_no,
                            std::span<const std::int64_t> ids) {
  if (!is_canonical_uuid(task_id) || batch_no < 0)
    return errc::invalid_argument;
  const fs::path dir = audit_dir / std::string(task_id);
  // A crash must not lose the task's folder, nor the dump's name in it, once we return.
  if (auto ec = make_folders_durably(dir))
    return ec;

  std::string text = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i)
      text += ',';
    text += std::to_string(ids[i]);
  }
  text += "]\n";
  return write_file_durably(dir, "batch-" + std::to_string(batch_no) + ".json", text);
}

result<std::map<int, std::vector<std::int64_t>>> read_audit_dumps(const fs::path& audit_dir,
                                                                  std::string_view task_id,
                                                                  std::string* why) {
  if (!is_canonical_uuid(task_id))
    return make_error_code(errc::invalid_argument);
  const fs::path dir = audit_dir / std::string(task_id);
  std::error_code sec;
  fs::directory_iterator it(dir, sec);
  if (sec)
    return error_code{sec.value(), boost::system::generic_category()};
  std::map<int, std::vector<std::int64_t>> dumps;
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    // Only files are dumps (a folder in the way of one is why its dump failed).
    if (!name.starts_with("batch-") || !name.ends_with(".json") || !entry.is_regular_file())
      continue;
    const auto number = name.substr(6, name.size() - 11);
    int batch_no = -1;
    try {
      std::size_t used = 0;
      batch_no = std::stoi(number, &used);
      if (used != number.size())
        batch_no = -1;
    } catch (const std::exception&) {
      batch_no = -1;
    }
    auto fail = [&](std::string what) -> error_code {
      if (why)
        *why = entry.path().string() + ": " + what;
      return errc::parse_error;
    };
    if (batch_no < 0)
      return fail("not a batch-<n>.json name");
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto value = json::parse(text.str(), ec);
    if (ec || !value.is_array())
      return fail("not a JSON array");
    std::vector<std::int64_t> ids;
    ids.reserve(value.as_array().size());
    for (const auto& v : value.as_array()) {
      if (!v.is_int64())
        return fail("holds something other than an integer id");
      ids.push_back(v.as_int64());
    }
    dumps.emplace(batch_no, std::move(ids));
  }
  return dumps;
}

}  // namespace etl
