#include "etl/worker/pipeline_batch.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <pqxx/result>

#include "etl/core/blocking.hpp"
#include "etl/pipelines/checks.hpp"
#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/params.hpp"
#include "etl/pipelines/postgres_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/worker/plan_job.hpp"

namespace etl {
namespace {

// What the extract phase leaves for the others.
struct extracted {
  std::vector<typed_record> records;                // merged by the source's key
  std::vector<std::vector<typed_record>> children;  // per spec.children
  std::vector<std::string> pages;                   // every answer, one line each
  std::vector<rejected_row> rejected;
  std::int64_t skipped_children = 0;
  task_counters counts;

  // The rows sink `s` takes.
  std::span<const typed_record> rows_of(const pipeline_spec& spec, const sink_spec& s) const {
    if (s.input == sink_input::child) {
      for (std::size_t i = 0; i < spec.children.size(); ++i) {
        if (spec.children[i].name == s.child)
          return children[i];
      }
    }
    return records;
  }
};

// The requests of one batch: its listing pages, or in a windowed pipeline its day windows, each
// read page after page until the window's page count.
struct batch_requests {
  struct window {
    std::string start, end;  // YYYY-MM-DD, [start, end)
  };
  std::vector<window> windows;  // empty: not windowed
};

batch_requests requests_of(const batch_message& m, const pipeline_spec& spec,
                           const json::object& params) {
  batch_requests out;
  if (const auto range = window_range_of(spec, params)) {
    // The batch's "pages" are its windows, numbered from 1 (plan_job.cpp).
    for (int w = m.first_page; w <= m.last_page; ++w) {
      const auto day = range->first_day + (w - 1);
      out.windows.push_back({date_text(day), date_text(day + 1)});
    }
  }
  return out;
}

// Adds one answer's records to `out`: each typed with its child rows, or rejected.
void take_records(extracted& out, const pipeline_spec& spec, const json::array& records,
                  const transform_secrets* secrets) {
  for (const auto& raw : records) {
    ++out.counts.fetched;
    if (!raw.is_object()) {
      out.rejected.push_back({std::nullopt, "record: must be an object",
                              json::serialize(raw).substr(0, raw_record_limit)});
      continue;
    }
    auto typed = type_rows(raw.get_object(), spec, secrets);
    if (!typed) {
      out.rejected.push_back({std::nullopt, typed.error().describe(),
                              json::serialize(raw).substr(0, raw_record_limit)});
      continue;
    }
    out.records.push_back(std::move(typed->record));
    out.children.resize(spec.children.size());
    for (std::size_t i = 0; i < typed->children.size(); ++i) {
      auto& rows = out.children[i];
      rows.insert(rows.end(), std::make_move_iterator(typed->children[i].begin()),
                  std::make_move_iterator(typed->children[i].end()));
    }
    out.skipped_children += typed->skipped;
  }
}

// Phase 1: every page of the batch, its records typed. A page that cannot be read hands the
// job back (the upstream's client has retried it already).
net::awaitable<boost::system::result<extracted, std::string>> extract(
    worker_context& ctx, const batch_message& m, const pipeline_spec& spec,
    const json::object& params, const transform_secrets* secrets) {
  extracted out;
  out.children.resize(spec.children.size());
  const auto up = ctx.upstream_of(spec);
  const bool keep_pages = std::any_of(spec.sinks.begin(), spec.sinks.end(),
                                      [](const auto& s) { return s.input == sink_input::pages; });
  // Typing runs on the files pool: a salted slow hash takes milliseconds a record, which an
  // event loop must not spend.
  auto take_page = [&](rest_page& got) -> net::awaitable<void> {
    ++out.counts.pages;
    out.counts.retries += got.retries;
    out.counts.hedges += got.hedges;
    co_await run_blocking(ctx.files(), [&] { take_records(out, spec, got.records, secrets); });
    if (keep_pages)
      out.pages.push_back(std::move(got.raw));
  };
  const auto plan = requests_of(m, spec, params);
  const auto first = spec.source.paginator.first_page;
  if (plan.windows.empty()) {
    for (int logical = m.first_page; logical <= m.last_page; ++logical) {
      request_values v{first + (logical - 1), params, {}, {}};
      auto got = co_await fetch_rest_page(*up.client, spec.source, up.base_path, v, up.credentials);
      if (!got)
        co_return got.error();
      co_await take_page(*got);
    }
  }
  for (const auto& w : plan.windows) {
    // A window's first answer says how many pages it has (a single request: one).
    std::int64_t pages = 1;
    for (std::int64_t n = 0; n < pages; ++n) {
      request_values v{first + n, params, w.start, w.end};
      auto got = co_await fetch_rest_page(*up.client, spec.source, up.base_path, v, up.credentials);
      if (!got)
        co_return "window " + w.start + ": " + got.error();
      if (n == 0 && got->total_pages)
        pages = std::max<std::int64_t>(1, *got->total_pages);
      if (pages > max_total_pages)
        co_return "window " + w.start + ": the source claims " + std::to_string(pages) +
            " pages, more than " + std::to_string(max_total_pages);
      co_await take_page(*got);
    }
  }
  // A record listed twice (a page boundary moved under the paginator) is delivered once.
  const auto listed = out.records.size();
  out.records = merge_by_key(spec.fields, std::span(&spec.source.key, 1), out.records);
  out.counts.duplicates = static_cast<std::int64_t>(listed - out.records.size());
  out.counts.rejected = static_cast<std::int64_t>(out.rejected.size());
  out.counts.posted = static_cast<std::int64_t>(out.records.size());
  co_return out;
}

// Phase 2: the files sinks' files, durably, on the files thread (fsync must not block an event
// loop). Their manifest rows are returned for the record phase.
net::awaitable<result<std::vector<output_file>>> write_files(worker_context& ctx,
                                                             const batch_message& m,
                                                             const pipeline_spec& spec,
                                                             const extracted& got) {
  // A version 2 message (queued before task_date existed) names its files by today's date.
  const auto day =
      m.task_date.empty() ? date_text(utc_day(std::chrono::system_clock::now())) : m.task_date;
  batch_naming naming{m.task_id, day.substr(0, 4) + day.substr(5, 2) + day.substr(8, 2),
                      m.batch_no};
  co_return co_await run_blocking(ctx.files(), [&]() -> result<std::vector<output_file>> {
    std::vector<output_file> all;
    for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
      const auto& sink = spec.sinks[i];
      if (sink.kind != sink_kind::files)
        continue;
      const auto index = static_cast<int>(i);
      if (sink.input == sink_input::pages) {
        auto file = write_batch_pages(ctx.cfg().output_dir, sink, index, got.pages, naming);
        if (!file)
          return file.error();
        all.push_back(std::move(*file));
        continue;
      }
      auto files = write_batch_files(ctx.cfg().output_dir, sink, index, spec.fields_of(sink),
                                     got.rows_of(spec, sink), naming);
      if (!files)
        return files.error();
      all.insert(all.end(), files->begin(), files->end());
    }
    return all;
  });
}

// The partitions of files sinks that the batch's windows replace: a sink partitioned by a date
// field, each day of the windows. Earlier tasks' files of these partitions leave the manifest
// in the batch's transaction (replace_partitions), so a re-run window is never read twice.
std::vector<std::pair<int, std::string>> replaced_partitions(const pipeline_spec& spec,
                                                             const batch_requests& plan) {
  std::vector<std::pair<int, std::string>> out;
  for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
    const auto& sink = spec.sinks[i];
    if (sink.kind != sink_kind::files || sink.partition_by.empty())
      continue;
    const auto fields = spec.fields_of(sink);
    const auto by = std::find_if(fields.begin(), fields.end(),
                                 [&](const field_spec& f) { return f.name == sink.partition_by; });
    if (by == fields.end() || by->type != field_type::date)
      continue;
    for (const auto& w : plan.windows)
      out.emplace_back(static_cast<int>(i), sink.partition_by + "=" + w.start);
  }
  return out;
}

// Removes other tasks' manifest rows of `parts` (same pipeline, same sink) and returns their
// paths, for the caller to delete once the transaction has committed.
std::vector<std::string> replace_partitions(pqxx::work& tx, const batch_message& m,
                                            const std::vector<std::pair<int, std::string>>& parts) {
  std::vector<std::string> gone;
  for (const auto& [sink, partition] : parts) {
    const auto rows = tx.exec_params(
        "DELETE FROM output_files o USING tasks t WHERE t.id = o.task_id AND t.pipeline = $1 "
        "AND o.sink = $2 AND o.partition = $3 AND o.task_id <> $4::uuid RETURNING o.path",
        m.pipeline, sink, partition, m.task_id);
    for (const auto& r : rows)
      gone.push_back(r[0].as<std::string>());
  }
  return gone;
}

// Deletes replaced files (no longer in the manifest) from the output root; one that cannot be
// deleted is logged and left to the unlisted-file sweep.
void delete_replaced(const std::filesystem::path& root, const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    std::error_code ec;
    std::filesystem::remove(root / p, ec);
    if (ec)
      spdlog::warn("replaced file {} not deleted: {}", p, ec.message());
  }
}

// The manifest rows of `files`, inserted with the batch's record. A file of the same path
// listed before (an earlier task's batch with the same name cannot exist: names hold the task
// id) is the same file rewritten: its row is updated.
void list_files(pqxx::work& tx, const batch_message& m, const std::vector<output_file>& files) {
  for (const auto& f : files) {
    tx.exec_params(
        "INSERT INTO output_files (task_id, batch_no, path, sink, partition, rows, bytes) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (task_id, batch_no, path) DO UPDATE "
        "SET rows = EXCLUDED.rows, bytes = EXCLUDED.bytes, created_at = now()",
        m.task_id, m.batch_no, f.path, f.sink, f.partition.empty() ? nullptr : f.partition.c_str(),
        f.rows, f.bytes);
  }
}

// Stores what the batch's checks found on its row (nothing for a spec without checks).
void record_quality(pqxx::work& tx, const batch_message& m, const std::string& quality) {
  if (quality.empty())
    return;
  tx.exec_params("UPDATE batches SET quality = $3::jsonb WHERE task_id = $1 AND batch_no = $2",
                 m.task_id, m.batch_no, quality);
}

// ETL_TEST_FAILPOINT=pipeline_batch.before_commit, for the sinks' exactly-once test only: the
// first delivery of every batch job ends its worker process after the files are written and
// before the transaction that records them.
bool fail_before_commit(const job& j) {
  static const bool set = [] {
    const char* v = std::getenv("ETL_TEST_FAILPOINT");
    return v != nullptr && std::string_view(v) == "pipeline_batch.before_commit";
  }();
  return set && j.deliveries == 1;
}

}  // namespace

boost::system::result<std::optional<transform_secrets>, std::string> secrets_of(
    const pipeline_spec& spec) {
  if (!spec.secrets)
    return std::optional<transform_secrets>{};
  const char* salt = std::getenv(spec.secrets->salt_env.c_str());
  if (salt == nullptr || *salt == '\0') {
    return {boost::system::in_place_error,
            spec.secrets->salt_env + " is not set: pipeline " + spec.name +
                " hashes its secret fields with it, and will not write them in clear"};
  }
  return std::optional<transform_secrets>{transform_secrets{salt, spec.secrets->iterations}};
}

net::awaitable<job_outcome> run_pipeline_batch(worker_context& ctx, const job& j,
                                               const batch_message& m, const pipeline_spec& spec) {
  const auto where = "task " + m.task_id + " batch " + std::to_string(m.batch_no);
  boost::system::error_code ec;
  auto parsed = json::parse(m.params, ec);
  if (ec || !parsed.is_object())
    co_return job_outcome::retry(where + ": params are not a JSON object");
  const auto& params = parsed.get_object();

  auto status = co_await ctx.tasks().get_status(m.task_id);
  if (!status)
    co_return job_outcome::db_failure(where + ": task status", status.error());
  if (is_finished(*status)) {
    // A cancelled (or failed) task's pending batches were skipped; nothing to write.
    co_return job_outcome::done();
  }
  // A redelivery of a batch already recorded (its worker died before the ack) reads and
  // writes nothing again.
  auto state = co_await ctx.ledger().state_of(m.task_id, m.batch_no);
  if (!state)
    co_return job_outcome::db_failure(where + ": batch state", state.error());
  if (*state && is_finished(**state))
    co_return job_outcome::done();

  // A worker whose environment lacks the source's secret fails the task, as its plan job does:
  // the batch could come to a worker of the pool started without it.
  if (const auto up = ctx.upstream_of(spec); !up.access_error.empty()) {
    auto failed = co_await ctx.tasks().fail_task(m.task_id, up.access_error);
    if (!failed)
      co_return job_outcome::db_failure(where + ": fail task", failed.error());
    spdlog::error("{}: {}", where, up.access_error);
    co_return job_outcome::done();
  }
  const auto secrets = secrets_of(spec);
  if (!secrets) {
    // This worker lacks the salt (its plan job ran on another): fail the task, do not retry.
    auto failed = co_await ctx.tasks().fail_task(m.task_id, secrets.error());
    if (!failed)
      co_return job_outcome::db_failure(where + ": fail task", failed.error());
    spdlog::error("{}: {}", where, secrets.error());
    co_return job_outcome::done();
  }
  auto got = co_await extract(ctx, m, spec, params, *secrets ? &**secrets : nullptr);
  if (!got)
    co_return job_outcome::retry(where + ": " + got.error());
  ctx.counters().animals_fetched += static_cast<std::uint64_t>(got->counts.fetched);

  // Phase 2: the spec's data-quality checks; a failed blocking one fails the batch (and its
  // task) before anything is written, with what it found recorded.
  std::string quality;
  if (!spec.checks.empty()) {
    const auto q = check_batch(spec, got->records);
    quality = json::serialize(q.to_json());
    if (auto failure = q.blocking_failure(); !failure.empty()) {
      batch_result failed{batch_outcome::failed, got->counts, std::move(got->rejected), failure};
      failed.counts.posted = 0;
      failed.in_transaction = [&](pqxx::work& tx) { record_quality(tx, m, quality); };
      auto recorded = co_await ctx.ledger().finish_batch(m.task_id, m.batch_no, std::move(failed));
      if (!recorded)
        co_return job_outcome::db_failure(where + ": record", recorded.error());
      spdlog::error("{}: {}", where, failure);
      co_return job_outcome::done();
    }
  }

  auto files = co_await write_files(ctx, m, spec, *got);
  if (!files)
    co_return job_outcome::retry(where + ": writing files: " + files.error().message());

  if (fail_before_commit(j)) {
    spdlog::critical("{}: failpoint pipeline_batch.before_commit: exiting", where);
    std::_Exit(86);
  }

  // Phase 3: rows, manifest and the batch's record in one transaction.
  batch_result result{batch_outcome::posted, got->counts, std::move(got->rejected), {}};
  const auto& data = *got;
  const auto& written = *files;
  const auto parts = replaced_partitions(spec, requests_of(m, spec, params));
  std::vector<std::string> replaced;
  result.in_transaction = [&](pqxx::work& tx) {
    for (const auto& sink : spec.sinks) {
      if (sink.kind == sink_kind::postgres)
        upsert_records(tx, sink, spec.fields_of(sink), data.rows_of(spec, sink));
    }
    replaced = replace_partitions(tx, m, parts);
    list_files(tx, m, written);
    record_quality(tx, m, quality);
  };
  auto finished = co_await ctx.ledger().finish_batch(m.task_id, m.batch_no, std::move(result));
  if (!finished)
    co_return job_outcome::db_failure(where + ": record", finished.error());
  if (finished->applied) {
    ctx.counters().animals_posted += static_cast<std::uint64_t>(data.records.size());
    ++ctx.counters().batches_posted;
    spdlog::info(
        "{}: {} records delivered, {} files, {} replaced, {} child entries skipped "
        "(job {})",
        where, data.records.size(), written.size(), replaced.size(), data.skipped_children, j.id);
    if (!replaced.empty()) {
      co_await run_blocking(ctx.files(), [&] { delete_replaced(ctx.cfg().output_dir, replaced); });
    }
  }
  if (finished->finalized)
    spdlog::info("task {}: {}", m.task_id, to_string(finished->status));
  co_return job_outcome::done();
}

}  // namespace etl
