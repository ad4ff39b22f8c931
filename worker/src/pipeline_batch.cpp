#include "etl/worker/pipeline_batch.hpp"

#include <cstdlib>
#include <string_view>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "etl/core/blocking.hpp"
#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/postgres_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"

namespace etl {
namespace {

// What the extract phase leaves for the others.
struct extracted {
  std::vector<typed_record> records;
  std::vector<rejected_row> rejected;
  task_counters counts;
};

// Phase 1: every page of the batch, its records typed. A page that cannot be read hands the
// job back (the upstream's client has retried it already).
net::awaitable<boost::system::result<extracted, std::string>> extract(worker_context& ctx,
                                                                      const batch_message& m,
                                                                      const pipeline_spec& spec,
                                                                      const json::object& params) {
  extracted out;
  const auto up = ctx.upstream_of(spec);
  for (int logical = m.first_page; logical <= m.last_page; ++logical) {
    const std::int64_t page = spec.source.paginator.first_page + (logical - 1);
    auto got = co_await fetch_rest_page(*up.client, spec.source, up.base_path, page, params,
                                        up.credentials);
    if (!got)
      co_return got.error();
    ++out.counts.pages;
    out.counts.retries += got->retries;
    out.counts.hedges += got->hedges;
    for (const auto& raw : got->records) {
      ++out.counts.fetched;
      if (!raw.is_object()) {
        out.rejected.push_back({std::nullopt, "record: must be an object",
                                json::serialize(raw).substr(0, raw_record_limit)});
        continue;
      }
      auto typed = type_record(raw.get_object(), spec.fields);
      if (!typed) {
        out.rejected.push_back({std::nullopt, typed.error().describe(),
                                json::serialize(raw).substr(0, raw_record_limit)});
        continue;
      }
      out.records.push_back(std::move(*typed));
    }
  }
  out.counts.rejected = static_cast<std::int64_t>(out.rejected.size());
  out.counts.posted = static_cast<std::int64_t>(out.records.size());
  co_return out;
}

// Phase 2: the files sinks' files, durably, on the files thread (fsync must not block an event
// loop). Their manifest rows are returned for the record phase.
net::awaitable<result<std::vector<output_file>>> write_files(
    worker_context& ctx, const batch_message& m, const pipeline_spec& spec,
    const std::vector<typed_record>& records) {
  co_return co_await run_blocking(ctx.files(), [&]() -> result<std::vector<output_file>> {
    std::vector<output_file> all;
    for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
      if (spec.sinks[i].kind != sink_kind::files)
        continue;
      auto files = write_batch_files(ctx.cfg().output_dir, spec, static_cast<int>(i), records,
                                     m.task_id, m.batch_no);
      if (!files)
        return files.error();
      all.insert(all.end(), files->begin(), files->end());
    }
    return all;
  });
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
  auto got = co_await extract(ctx, m, spec, params);
  if (!got)
    co_return job_outcome::retry(where + ": " + got.error());
  ctx.counters().animals_fetched += static_cast<std::uint64_t>(got->counts.fetched);

  auto files = co_await write_files(ctx, m, spec, got->records);
  if (!files)
    co_return job_outcome::retry(where + ": writing files: " + files.error().message());

  if (fail_before_commit(j)) {
    spdlog::critical("{}: failpoint pipeline_batch.before_commit: exiting", where);
    std::_Exit(86);
  }

  // Phase 3: rows, manifest and the batch's record in one transaction.
  batch_result result{batch_outcome::posted, got->counts, std::move(got->rejected), {}};
  const auto& records = got->records;
  const auto& written = *files;
  result.in_transaction = [&spec, &m, &records, &written](pqxx::work& tx) {
    for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
      if (spec.sinks[i].kind == sink_kind::postgres)
        upsert_records(tx, spec, static_cast<int>(i), records);
    }
    list_files(tx, m, written);
  };
  auto finished = co_await ctx.ledger().finish_batch(m.task_id, m.batch_no, std::move(result));
  if (!finished)
    co_return job_outcome::db_failure(where + ": record", finished.error());
  if (finished->applied) {
    ctx.counters().animals_posted += static_cast<std::uint64_t>(records.size());
    ++ctx.counters().batches_posted;
    spdlog::info("{}: {} records delivered, {} files (job {})", where, records.size(),
                 written.size(), j.id);
  }
  if (finished->finalized)
    spdlog::info("task {}: {}", m.task_id, to_string(finished->status));
  co_return job_outcome::done();
}

}  // namespace etl
