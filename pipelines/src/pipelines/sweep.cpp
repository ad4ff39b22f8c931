#include "etl/pipelines/sweep.hpp"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

namespace etl {
namespace {

namespace fs = std::filesystem;

// The extension a files sink writes.
std::string_view extension_of(file_format f) {
  switch (f) {
    case file_format::csv:
      return ".csv";
    case file_format::jsonl:
      return ".jsonl";
    case file_format::parquet:
      return ".parquet";
  }
  return "";
}

// durable_file.hpp's temporaries: ".<name>.tmp-<pid>".
bool is_temporary(const std::string& name) {
  const auto at = name.rfind(".tmp-");
  return name.starts_with('.') && at != std::string::npos && at + 5 < name.size() &&
         std::all_of(name.begin() + static_cast<std::ptrdiff_t>(at + 5), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// The sinks' folders, each once, and the extensions written there.
std::vector<std::pair<std::string, std::set<std::string>>> folders_of(const pipeline_spec& spec) {
  std::vector<std::pair<std::string, std::set<std::string>>> out;
  for (const auto& sink : spec.sinks) {
    if (sink.kind != sink_kind::files)
      continue;
    const auto ext =
        std::string(sink.input == sink_input::pages ? ".jsonl" : extension_of(sink.format));
    auto at =
        std::find_if(out.begin(), out.end(), [&](const auto& f) { return f.first == sink.folder; });
    if (at == out.end())
      out.push_back({sink.folder, {ext}});
    else
      at->second.insert(ext);
  }
  return out;
}

// Files last written before this may be removed: `min_age` ago, and before the oldest task
// still queued or running was created.
fs::file_time_type cutoff(pqxx::connection& conn, std::chrono::seconds min_age) {
  pqxx::read_transaction tx(conn);
  // Seconds from the oldest unfinished task's creation to now (by Postgres's clock, so that
  // only the difference is used, never two clocks compared).
  const auto row = tx.exec1(
      "SELECT extract(epoch FROM now() - min(created_at))::float8 FROM tasks "
      "WHERE status IN ('queued', 'running')");
  auto age = min_age;
  if (!row[0].is_null()) {
    const auto oldest = std::chrono::seconds(static_cast<std::int64_t>(row[0].as<double>()) + 1);
    age = std::max(age, oldest);
  }
  return fs::file_time_type::clock::now() - age;
}

}  // namespace

boost::system::result<unlisted_sweep, std::string> sweep_unlisted(pqxx::connection& conn,
                                                                  const pipeline_spec& spec,
                                                                  const fs::path& root,
                                                                  std::chrono::seconds min_age) {
  using outcome = boost::system::result<unlisted_sweep, std::string>;
  unlisted_sweep report;
  try {
    const auto before = cutoff(conn, min_age);
    for (const auto& [folder, extensions] : folders_of(spec)) {
      const auto dir = root / folder;
      std::error_code ec;
      if (!fs::exists(dir, ec))
        continue;
      std::set<std::string> listed;
      {
        pqxx::read_transaction tx(conn);
        for (const auto& row : tx.exec_params(
                 "SELECT path FROM output_files WHERE starts_with(path, $1 || '/')", folder))
          listed.insert(row[0].as<std::string>());
      }
      std::vector<fs::path> candidates;
      for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (!it->is_regular_file())
          continue;
        const auto name = it->path().filename().string();
        if (!is_temporary(name) && !extensions.contains(it->path().extension().string()))
          continue;
        if (listed.contains(fs::relative(it->path(), root).generic_string())) {
          ++report.listed;
          continue;
        }
        candidates.push_back(it->path());
      }
      if (ec)
        return outcome(boost::system::in_place_error,
                       "reading " + dir.string() + ": " + ec.message());
      for (const auto& path : candidates) {
        const auto written = fs::last_write_time(path, ec);
        if (ec)
          continue;  // gone meanwhile
        if (written >= before) {
          ++report.too_recent;
          continue;
        }
        if (!fs::remove(path, ec) && ec)
          return outcome(boost::system::in_place_error,
                         "removing " + path.string() + ": " + ec.message());
        report.removed.push_back(fs::relative(path, root).generic_string());
        spdlog::info("sweep of {}: removed unlisted file {}", spec.name, report.removed.back());
      }
    }
  } catch (const std::exception& e) {
    return outcome(boost::system::in_place_error, e.what());
  }
  std::sort(report.removed.begin(), report.removed.end());
  return report;
}

}  // namespace etl
