#include "etl/pipelines/compaction.hpp"

#include <map>
#include <tuple>

#include <spdlog/spdlog.h>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/pqxx>

#include "etl/core/durable_file.hpp"
#include "etl/parquet/merge.hpp"
#include "etl/pipelines/records.hpp"
#include "parquet_table.hpp"

namespace etl {
namespace {

namespace fs = std::filesystem;

// The manifest's files of one folder of one sink, oldest task first.
struct folder_files {
  int sink = 0;
  std::string folder;     // relative to the output root
  std::string partition;  // the files' partition ("" when none)
  std::vector<std::string> paths;
  std::int64_t rows = 0;
};

// Folders of `spec`'s Parquet sinks holding two listed files or more, all of finished tasks.
std::vector<folder_files> folders_to_merge(pqxx::connection& conn, const pipeline_spec& spec) {
  pqxx::read_transaction tx(conn);
  std::map<std::tuple<int, std::string, std::string>, folder_files> by_folder;
  for (const auto& row : tx.exec_params(
           "SELECT o.sink, o.path, coalesce(o.partition, ''), o.rows FROM output_files o "
           "JOIN tasks t ON t.id = o.task_id WHERE t.pipeline = $1 "
           "AND t.status IN ('succeeded', 'failed', 'cancelled') "
           "ORDER BY t.created_at, o.task_id, o.batch_no, o.path",
           spec.name)) {
    const auto sink = row[0].as<int>();
    if (sink < 0 || static_cast<std::size_t>(sink) >= spec.sinks.size() ||
        spec.sinks[static_cast<std::size_t>(sink)].format != file_format::parquet ||
        spec.sinks[static_cast<std::size_t>(sink)].kind != sink_kind::files)
      continue;
    const auto path = row[1].as<std::string>();
    const auto folder = fs::path(path).parent_path().generic_string();
    auto& f = by_folder[{sink, folder, row[2].as<std::string>()}];
    f.sink = sink;
    f.folder = folder;
    f.partition = row[2].as<std::string>();
    f.paths.push_back(path);
    f.rows += row[3].as<std::int64_t>();
  }
  std::vector<folder_files> out;
  for (auto& [key, f] : by_folder) {
    if (f.paths.size() >= 2)
      out.push_back(std::move(f));
  }
  return out;
}

std::string json_list(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items)
    a.emplace_back(s);
  return boost::json::serialize(a);
}

// The compaction's task: running, one batch a folder, as the pipeline's.
std::string start_task(pqxx::connection& conn, const pipeline_spec& spec, int folders) {
  pqxx::work tx(conn);
  const auto id =
      tx.exec_params1(
            "INSERT INTO tasks (status, pipeline, params, started_at, total_pages, "
            "batches_total) VALUES ('running', $1, '{\"compaction\": true}'::jsonb, now(), $2, $2) "
            "RETURNING id::text",
            spec.name, folders)[0]
          .as<std::string>();
  tx.commit();
  return id;
}

// The swap: the new file listed as batch `no` of the task, the inputs' rows gone (all of them,
// or the transaction fails), the task's counts added.
void swap_in_manifest(pqxx::connection& conn, const std::string& task, int no,
                      const folder_files& f, const std::string& path, std::int64_t bytes) {
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO batches (task_id, batch_no, first_page, last_page, state, posted_count) "
      "VALUES ($1, $2, $3, $3, 'posted', $4)",
      task, no, no + 1, f.rows);
  const auto gone = tx.exec_params(
      "DELETE FROM output_files WHERE path IN (SELECT jsonb_array_elements_text($1::jsonb)) "
      "RETURNING path",
      json_list(f.paths));
  if (gone.size() != f.paths.size())
    throw std::runtime_error("only " + std::to_string(gone.size()) + " of the " +
                             std::to_string(f.paths.size()) + " files of " + f.folder +
                             " are still listed (a re-run replaced them): left as they are");
  tx.exec_params(
      "INSERT INTO output_files (task_id, batch_no, path, sink, partition, rows, bytes) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      task, no, path, f.sink, f.partition.empty() ? nullptr : f.partition.c_str(), f.rows, bytes);
  tx.exec_params(
      "UPDATE tasks SET batches_done = batches_done + 1, posted = posted + $2, "
      "fetched = fetched + $2, updated_at = now() WHERE id = $1",
      task, f.rows);
  tx.commit();
}

void finish_task(pqxx::connection& conn, const std::string& task, const std::string& failure) {
  pqxx::work tx(conn);
  tx.exec_params(
      "UPDATE tasks SET status = CASE WHEN $2 = '' THEN 'succeeded' ELSE 'failed' END, "
      "batches_total = CASE WHEN $2 = '' THEN batches_done ELSE batches_total END, "
      "finished_at = now(), updated_at = now(), errors = CASE WHEN $2 = '' THEN errors "
      "ELSE errors || jsonb_build_array(jsonb_build_object('at', now(), 'batch', NULL, "
      "'reason', $2::text)) END WHERE id = $1",
      task, failure);
  tx.commit();
}

}  // namespace

boost::system::result<compaction_report, std::string> compact_pipeline(pqxx::connection& conn,
                                                                       const pipeline_spec& spec,
                                                                       const fs::path& root) {
  compaction_report report;
  std::vector<folder_files> folders;
  try {
    folders = folders_to_merge(conn, spec);
    if (folders.empty())
      return report;
    report.task_id = start_task(conn, spec, static_cast<int>(folders.size()));
  } catch (const std::exception& e) {
    return {boost::system::in_place_error, std::string("reading the manifest: ") + e.what()};
  }
  std::string failure;
  for (std::size_t i = 0; i < folders.size() && failure.empty(); ++i) {
    const auto& f = folders[i];
    const auto& sink = spec.sinks[static_cast<std::size_t>(f.sink)];
    const auto fields = spec.fields_of(sink);
    std::vector<field_spec> columns;
    for (auto at : field_indexes(fields, sink.columns))
      columns.push_back(fields[at]);
    const auto table = detail::parquet_schema(columns);
    const auto codec = detail::parquet_options(sink).compression;
    const auto name = "compacted-" + report.task_id + "-" + std::to_string(i) + ".parquet";
    const auto path = (fs::path(f.folder) / name).generic_string();
    std::vector<fs::path> inputs;
    for (const auto& p : f.paths)
      inputs.push_back(root / p);
    std::uint64_t bytes = 0;
    const auto written = publish_file_durably(root / f.folder, name, [&](const fs::path& tmp) {
      auto merged = parquet::merge_files(inputs, tmp, table, codec);
      if (merged)
        bytes = merged->bytes;
      return merged ? error_code{} : merged.error();
    });
    if (written) {
      failure = f.folder + ": " + written.message();
      break;
    }
    try {
      swap_in_manifest(conn, report.task_id, static_cast<int>(i), f, path,
                       static_cast<std::int64_t>(bytes));
    } catch (const std::exception& e) {
      std::error_code ec;
      fs::remove(root / path, ec);
      failure = f.folder + ": " + e.what();
      break;
    }
    for (const auto& p : inputs) {
      std::error_code ec;
      fs::remove(p, ec);
      if (ec)
        spdlog::warn("compaction: {} is no longer listed but was not deleted: {}", p.string(),
                     ec.message());
    }
    ++report.folders;
    report.files_in += static_cast<std::int64_t>(f.paths.size());
    report.rows += f.rows;
    report.written.push_back(path);
    spdlog::info("compaction: {} files of {} ({} rows) are now {}", f.paths.size(), f.folder,
                 f.rows, path);
  }
  try {
    finish_task(conn, report.task_id, failure);
  } catch (const std::exception& e) {
    return {boost::system::in_place_error, std::string("recording the task: ") + e.what()};
  }
  if (!failure.empty())
    return {boost::system::in_place_error, failure};
  return report;
}

}  // namespace etl
