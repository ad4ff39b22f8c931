// etl-verify for a task of a spec-driven pipeline (docs/architecture.md, "Verifying a task"): the
// source is read again as the task read it (its parameters, its windows, its chain, its cursor
// with the keys earlier tasks delivered at it), every record typed by the spec, and each sink is
// asked what it holds of them:
// - postgres: every key the source lists has its row (the table holds other tasks' rows too, so
//   nothing there is "unexpected", and its primary key rules out a second row);
// - files (CSV, JSON Lines, Parquet): the files the manifest lists for the task, read back, each
//   key counted: missing, more than once, or not listed by the source. A sink without a key
//   compares its row count; a sink of raw answers is counted, not checked by key.
// A record the source lists that fails the spec's validation is not expected anywhere: it is
// counted as rejected, as the task's own batches counted it.
//
// The source is read once more, so run it soon after the task: an upstream whose data changed
// since (new records, a moved cursor) shows as missing or unexpected keys.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <pqxx/connection>

#include "etl/db/cursor_store.hpp"
#include "etl/http/client.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

// What the source lists for a task, read again.
struct source_reading {
  std::vector<typed_record> records;                // valid records, in source order
  std::vector<std::vector<typed_record>> children;  // each child table's rows (spec.children)
  std::int64_t pages = 0;
  std::int64_t listed = 0;              // records in the answers
  std::int64_t rejected = 0;            // failing the spec's fields
  std::int64_t delivered_before = 0;    // at the cursor's start, delivered by an earlier task
  std::vector<std::string> rejections;  // the first few reasons
};

// Reads every page of `spec`'s source for a task with `params` (and `cursor`, an incremental
// task's start), as its batches did. Fails with the page's failure, or a chain that loops.
net::awaitable<boost::system::result<source_reading, std::string>> read_source_again(
    http_client& client, const pipeline_spec& spec, std::string base_path,
    const source_credentials* credentials, const boost::json::object& params,
    std::optional<incremental_start> cursor);

// What one sink holds of the records the source lists.
struct sink_check {
  std::string kind;           // "postgres" or "files"
  std::string target;         // the table or the folder
  std::string keyed_by;       // the key columns, comma-separated; empty: rows counted only
  std::int64_t expected = 0;  // distinct keys (or rows) the source lists for it
  std::int64_t found = 0;     // rows found for the task (files) or keys found (postgres)
  std::int64_t missing = 0;
  std::int64_t duplicated = 0;        // keys found more than once
  std::int64_t unexpected = 0;        // keys found that the source does not list
  std::vector<std::string> examples;  // the first missing, duplicated or unexpected keys
  std::string note;                   // what was not checked, and why

  bool ok() const noexcept { return missing == 0 && duplicated == 0 && unexpected == 0; }
};

// Asks each sink of `spec` (below the output root `root` for files) what it holds of `reading`
// for task `task_id`. Fails with the reason when a table or a listed file cannot be read.
boost::system::result<std::vector<sink_check>, std::string> check_sinks(
    pqxx::connection& conn, const pipeline_spec& spec, const std::string& task_id,
    const std::filesystem::path& root, const source_reading& reading);

// The findings as text for people, and as one JSON object.
std::string pipeline_verdict_text(const std::string& task_id, const pipeline_spec& spec,
                                  const source_reading& reading,
                                  const std::vector<sink_check>& sinks);
std::string pipeline_verdict_json(const std::string& task_id, const pipeline_spec& spec,
                                  const source_reading& reading,
                                  const std::vector<sink_check>& sinks);

}  // namespace etl
