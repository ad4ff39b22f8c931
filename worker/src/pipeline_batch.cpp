#include "etl/worker/pipeline_batch.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string_view>

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <pqxx/result>

#include "etl/core/blocking.hpp"
#include "etl/core/durable_file.hpp"
#include "etl/pipelines/checks.hpp"
#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/params.hpp"
#include "etl/pipelines/postgres_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/streamed_batch.hpp"
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
  // keyset: the key the chain's next batch starts after; none: this batch read the last page.
  std::optional<std::string> next_key;
  // Set: the batch cannot succeed however often it runs (the upstream handed a key back, a
  // record without a key): it is recorded as failed with this reason.
  std::string fatal;
  // Set for a pipeline whose sinks all stream (streamed_batch::suits): each page's records and
  // child rows went to its spool, `records` and `children` stay empty, and `quality` holds the
  // checks' result, counted as the spool was surveyed.
  std::optional<streamed_batch> stream;
  std::optional<batch_quality> quality;

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

// The position of field `name` among the spec's record fields (the loader checked it exists).
std::size_t field_at(const pipeline_spec& spec, const std::string& name) {
  return field_indexes(spec.fields, std::span(&name, 1)).front();
}

// Drops the records an earlier task delivered already (records.hpp's drop_delivered); they
// count as duplicates.
void skip_delivered(extracted& out, const pipeline_spec& spec, const incremental_start& cursor) {
  out.counts.duplicates +=
      static_cast<std::int64_t>(drop_delivered(out.records, spec, cursor.start, cursor.skip));
}

// The highest cursor value among `records` (as written) and the keys of the records at it;
// nullopt for no records.
std::optional<std::pair<std::string, std::vector<std::string>>> batch_cursor(
    const pipeline_spec& spec, std::span<const typed_record> records) {
  const auto at = field_at(spec, spec.incremental->field);
  const auto key = field_at(spec, spec.source.key);
  std::optional<std::int64_t> best;
  std::pair<std::string, std::vector<std::string>> out;
  for (const auto& r : records) {
    const auto& v = r.values[at];
    const auto micros = v.is_string() ? date_time_micros(v.get_string()) : std::nullopt;
    if (!micros || (best && *micros < *best))
      continue;
    if (!best || *micros > *best) {
      best = micros;
      out = {std::string(v.get_string()), {}};
    }
    out.second.push_back(key_text(r.values[key]));
  }
  if (!best)
    return std::nullopt;
  return out;
}

// Where a batch's requests start besides its pages: an incremental task's cursor and a keyset
// batch's key.
struct batch_start {
  std::optional<incremental_start> cursor;
  chain_link link;
};

// Phase 1: every page of the batch, its records typed. A page that cannot be read hands the
// job back (the upstream's client has retried it already).
net::awaitable<boost::system::result<extracted, std::string>> extract(
    worker_context& ctx, const batch_message& m, const pipeline_spec& spec,
    const json::object& params, const transform_secrets* secrets, const batch_start& from) {
  extracted out;
  out.children.resize(spec.children.size());
  if (streamed_batch::suits(spec)) {
    // The spool lives in the output root: the records are written there anyway, and a
    // temporary folder may be memory (tmpfs).
    const std::filesystem::path root = ctx.cfg().output_dir;
    const auto ec = co_await run_blocking(ctx.files(), [&]() -> error_code {
      if (auto e = make_folders_durably(root))
        return e;
      auto spool = streamed_batch::open(spec, root);
      if (!spool)
        return spool.error();
      out.stream.emplace(std::move(*spool));
      return {};
    });
    if (ec)
      co_return "spool in " + root.string() + ": " + ec.message();
  }
  const auto up = ctx.upstream_of(spec);
  const bool keep_pages = std::any_of(spec.sinks.begin(), spec.sinks.end(),
                                      [](const auto& s) { return s.input == sink_input::pages; });
  // Typing runs on the files pool: a salted slow hash takes milliseconds a record, which an
  // event loop must not spend. A streamed batch spools the page's rows there too.
  auto take_page = [&](rest_page& got) -> net::awaitable<error_code> {
    ++out.counts.pages;
    out.counts.retries += got.retries;
    out.counts.hedges += got.hedges;
    auto ec = co_await run_blocking(ctx.files(), [&] {
      take_records(out, spec, got.records, secrets);
      return out.stream ? out.stream->add(out.records, out.children) : error_code{};
    });
    if (keep_pages)
      out.pages.push_back(std::move(got.raw));
    co_return ec;
  };
  const auto spool_failed = [](const error_code& ec) { return "spool: " + ec.message(); };
  // A page, its spent quota waited out (source.quota_reset_seconds, up to quota_waits times):
  // the wait holds the job (its lease is renewed) and is not a failure.
  auto fetch = [&](const request_values& v)
      -> net::awaitable<boost::system::result<rest_page, page_failure>> {
    for (int waits = 0;; ++waits) {
      auto got = co_await fetch_rest_page(*up.client, spec.source, up.base_path, v, up.credentials);
      const auto reset = spec.source.quota_reset_seconds;
      if (got || got.error().status != 429 || reset == 0 || waits == quota_waits)
        co_return got;
      spdlog::warn(
          "task {} batch {}: the upstream's quota is spent (429): waiting {} s for it to "
          "reset",
          m.task_id, m.batch_no, reset);
      ++out.counts.retries;
      net::steady_timer timer(co_await net::this_coro::executor);
      timer.expires_after(std::chrono::seconds(reset));
      co_await timer.async_wait(net::use_awaitable);
    }
  };
  // What a page that could not be read makes of the extract: a refusal of the credentials ends
  // the batch for good (out.fatal); any other failure hands the job back.
  auto give_up = [&](const page_failure& f,
                     const std::string& where) -> boost::system::result<extracted, std::string> {
    if (!f.refused)
      return where + f.what;
    out.fatal = where + f.what;
    return std::move(out);
  };
  const auto plan = requests_of(m, spec, params);
  const auto first = spec.source.paginator.first_page;
  const auto cursor_start = from.cursor ? from.cursor->start : std::string();
  const auto& pager = spec.source.paginator;
  if (pager.chained()) {
    // Up to pages_per_batch pages, each from where the one before ended (keyset: after its last
    // key; next_link: at its link; offset: the next page); a short page (or one without a link)
    // is the chain's last. A start seen twice in the batch is a loop (across batches:
    // run_pipeline_batch asks the ledger).
    chain_start at = from.link.after_key;
    std::set<std::string> seen;
    if (at)
      seen.insert(*at);
    for (int n = 0; n < pager.pages_per_batch; ++n) {
      const auto v = chain_request(pager, params, cursor_start, at);
      auto got = co_await fetch(v);
      if (!got)
        co_return give_up(got.error(), "");
      // The task's pages so far: every batch of a chain before this one read pages_per_batch.
      const auto read = std::int64_t{m.batch_no} * pager.pages_per_batch + n + 1;
      auto next = chain_next(pager, v, *got, read);
      if (auto ec = co_await take_page(*got))
        co_return spool_failed(ec);
      out.next_key.reset();
      if (!next) {
        out.fatal = next.error();
        break;
      }
      if (next->empty())
        break;
      if (!seen.insert(*next).second) {
        out.fatal = pager.kind == paginator_kind::next_link
                        ? "next-link loop: the upstream links to " + *next +
                              " again, which an earlier page of this task was read from"
                        : "keyset loop: the upstream's page ends at key " + *next +
                              " again, which an earlier page of this task ended at";
        break;
      }
      at = *next;
      out.next_key = *next;
    }
  } else if (plan.windows.empty()) {
    for (int logical = m.first_page; logical <= m.last_page; ++logical) {
      request_values v{first + (logical - 1), params, {}, {}};
      auto got = co_await fetch(v);
      if (!got)
        co_return give_up(got.error(), "");
      if (auto ec = co_await take_page(*got))
        co_return spool_failed(ec);
    }
  }
  for (const auto& w : plan.windows) {
    // A window's first answer says how many pages it has (a single request: one).
    std::int64_t pages = 1;
    for (std::int64_t n = 0; n < pages; ++n) {
      request_values v{first + n, params, w.start, w.end};
      auto got = co_await fetch(v);
      if (!got)
        co_return give_up(got.error(), "window " + w.start + ": ");
      if (n == 0 && got->total_pages)
        pages = std::max<std::int64_t>(1, *got->total_pages);
      if (pages > max_total_pages)
        co_return "window " + w.start + ": the source claims " + std::to_string(pages) +
            " pages, more than " + std::to_string(max_total_pages);
      if (auto ec = co_await take_page(*got))
        co_return spool_failed(ec);
    }
  }
  out.counts.rejected = static_cast<std::int64_t>(out.rejected.size());
  if (out.stream) {
    // The same merge, and the checks, read from the spool.
    auto surveyed = co_await run_blocking(ctx.files(), [&] { return out.stream->survey(); });
    if (!surveyed)
      co_return spool_failed(surveyed.error());
    out.quality = std::move(*surveyed);
    out.counts.duplicates += out.stream->listed() - out.stream->kept();
    out.counts.posted = out.stream->kept();
    co_return out;
  }
  if (from.cursor)
    skip_delivered(out, spec, *from.cursor);
  // A record listed twice (a page boundary moved under the paginator) is delivered once.
  const auto listed = out.records.size();
  out.records = merge_by_key(spec.fields, std::span(&spec.source.key, 1), out.records);
  out.counts.duplicates += static_cast<std::int64_t>(listed - out.records.size());
  out.counts.posted = static_cast<std::int64_t>(out.records.size());
  co_return out;
}

// Phase 2: the files sinks' files, durably, on the files thread (fsync must not block an event
// loop). Their manifest rows are returned for the record phase.
net::awaitable<result<std::vector<output_file>>> write_files(worker_context& ctx,
                                                             const batch_message& m,
                                                             const pipeline_spec& spec,
                                                             extracted& got) {
  // A version 2 message (queued before task_date existed) names its files by today's date.
  const auto day =
      m.task_date.empty() ? date_text(utc_day(std::chrono::system_clock::now())) : m.task_date;
  batch_naming naming{m.task_id, day.substr(0, 4) + day.substr(5, 2) + day.substr(8, 2), m.batch_no,
                      day};
  co_return co_await run_blocking(ctx.files(), [&]() -> result<std::vector<output_file>> {
    if (got.stream)
      return got.stream->write(ctx.cfg().output_dir, naming);
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

// What the batch delivered to each sink, in the spec's order (batches.sinks): the rows upserted
// into a postgres sink's table (`upserted`, by sink index), the files and rows of a files sink.
std::string sink_deliveries(const pipeline_spec& spec, const std::vector<std::int64_t>& upserted,
                            const std::vector<output_file>& written) {
  json::array out;
  for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
    const auto& sink = spec.sinks[i];
    json::object o;
    o["kind"] = to_string(sink.kind);
    if (sink.kind == sink_kind::postgres) {
      o["target"] = sink.table;
      o["rows"] = upserted[i];
    } else if (sink.kind == sink_kind::files) {
      std::int64_t files = 0, rows = 0;
      for (const auto& f : written) {
        if (f.sink != static_cast<int>(i))
          continue;
        ++files;
        rows += f.rows;
      }
      o["target"] = sink.folder;
      o["rows"] = rows;
      o["files"] = files;
    } else {
      continue;  // http_batch: the task's counts say what was posted
    }
    out.push_back(std::move(o));
  }
  return json::serialize(out);
}

void record_sinks(pqxx::work& tx, const batch_message& m, const std::string& sinks) {
  tx.exec_params("UPDATE batches SET sinks = $3::jsonb WHERE task_id = $1 AND batch_no = $2",
                 m.task_id, m.batch_no, sinks);
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

// Enqueues the job of batch `batch_no` of the chain `m` belongs to (same task, parameters, day).
net::awaitable<result<void>> enqueue_link(worker_context& ctx, const batch_message& m,
                                          int batch_no) {
  // Named, not a temporary in the co_await's arguments: GCC 12 frees such a temporary holding
  // strings twice.
  auto fields = encode(batch_message{m.task_id, batch_no, batch_no + 1, batch_no + 1, m.audit,
                                     m.pipeline, m.params, m.task_date});
  auto id = co_await ctx.queue().enqueue(std::move(fields));
  if (!id)
    co_return id.error();
  co_return result<void>{};
}

// Records the batch as failed for `reason` (with what its checks found, if any): its task
// fails once its other batches are done. The job is done either way.
net::awaitable<job_outcome> record_failed(worker_context& ctx, const batch_message& m,
                                          extracted& got, const std::string& reason,
                                          const std::string& quality) {
  const auto where = "task " + m.task_id + " batch " + std::to_string(m.batch_no);
  batch_result failed{batch_outcome::failed, got.counts, std::move(got.rejected), reason};
  failed.counts.posted = 0;
  failed.in_transaction = [&](pqxx::work& tx) { record_quality(tx, m, quality); };
  auto recorded = co_await ctx.ledger().finish_batch(m.task_id, m.batch_no, std::move(failed));
  if (!recorded)
    co_return job_outcome::db_failure(where + ": record", recorded.error());
  spdlog::error("{}: {}", where, reason);
  co_return job_outcome::done();
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
  const bool chained = spec.source.paginator.chained();
  batch_start from;
  if (chained) {
    auto link = co_await ctx.cursors().link_of(m.task_id, m.batch_no);
    if (!link)
      co_return job_outcome::db_failure(where + ": chain", link.error());
    from.link = std::move(*link);
  }
  if (*state && is_finished(**state)) {
    // Its worker may have died between the commit that added the next batch and that batch's
    // enqueue: a redelivery enqueues it again (a duplicate job finds it recorded and stops).
    if (chained && from.link.next_pending && j.deliveries > 1) {
      if (auto queued = co_await enqueue_link(ctx, m, *from.link.next_pending); !queued)
        co_return job_outcome::retry(where +
                                     ": enqueue the next batch: " + queued.error().message());
    }
    co_return job_outcome::done();
  }
  if (spec.incremental) {
    auto cursor = co_await ctx.cursors().of_task(m.task_id);
    if (!cursor)
      co_return job_outcome::db_failure(where + ": cursor", cursor.error());
    if (!*cursor)
      co_return job_outcome::retry(where + ": the task has no cursor start (its plan sets it)");
    from.cursor = std::move(*cursor);
  }

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
  auto got = co_await extract(ctx, m, spec, params, *secrets ? &**secrets : nullptr, from);
  if (!got)
    co_return job_outcome::retry(where + ": " + got.error());
  ctx.counters().animals_fetched += static_cast<std::uint64_t>(got->counts.fetched);
  if (got->next_key && got->fatal.empty()) {
    auto seen = co_await ctx.cursors().key_seen(m.task_id, *got->next_key);
    if (!seen)
      co_return job_outcome::db_failure(where + ": chain", seen.error());
    if (*seen) {
      got->fatal = spec.source.paginator.kind == paginator_kind::next_link
                       ? "next-link loop: the upstream links to " + *got->next_key +
                             ", which an earlier batch of this task started at"
                       : "keyset loop: the upstream's page ends at key " + *got->next_key +
                             ", which started an earlier batch of this task";
    }
  }
  if (!got->fatal.empty()) {
    const std::string no_quality;
    co_return co_await record_failed(ctx, m, *got, got->fatal, no_quality);
  }

  // Phase 2: the spec's data-quality checks; a failed blocking one fails the batch (and its
  // task) before anything is written, with what it found recorded.
  std::string quality;
  if (!spec.checks.empty()) {
    const auto q = got->quality ? *got->quality : check_batch(spec, got->records);
    quality = json::serialize(q.to_json());
    if (const auto failure = q.blocking_failure(); !failure.empty())
      co_return co_await record_failed(ctx, m, *got, failure, quality);
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
  const auto reached = spec.incremental ? batch_cursor(spec, data.records) : std::nullopt;
  result.in_transaction = [&](pqxx::work& tx) {
    if (data.next_key)
      append_chain_batch(tx, m.task_id, m.batch_no, *data.next_key);
    if (reached)
      record_batch_cursor(tx, m.task_id, m.batch_no, reached->first, reached->second);
    std::vector<std::int64_t> upserted(spec.sinks.size(), 0);
    for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
      const auto& sink = spec.sinks[i];
      if (sink.kind == sink_kind::postgres)
        upserted[i] = upsert_records(tx, sink, spec.fields_of(sink), data.rows_of(spec, sink));
    }
    replaced = replace_partitions(tx, m, parts);
    list_files(tx, m, written);
    record_quality(tx, m, quality);
    record_sinks(tx, m, sink_deliveries(spec, upserted, written));
  };
  auto finished = co_await ctx.ledger().finish_batch(m.task_id, m.batch_no, std::move(result));
  if (!finished)
    co_return job_outcome::db_failure(where + ": record", finished.error());
  if (finished->applied) {
    ctx.counters().animals_posted += static_cast<std::uint64_t>(data.counts.posted);
    ++ctx.counters().batches_posted;
    spdlog::info(
        "{}: {} records delivered, {} files, {} replaced, {} child entries skipped "
        "(job {})",
        where, data.counts.posted, written.size(), replaced.size(), data.skipped_children, j.id);
    if (!replaced.empty()) {
      co_await run_blocking(ctx.files(), [&] { delete_replaced(ctx.cfg().output_dir, replaced); });
    }
    if (data.next_key) {
      // Lost if this worker dies now: the batch's redelivery enqueues it (see above).
      if (auto queued = co_await enqueue_link(ctx, m, m.batch_no + 1); !queued)
        co_return job_outcome::retry(where +
                                     ": enqueue the next batch: " + queued.error().message());
    }
  }
  if (finished->finalized)
    spdlog::info("task {}: {}", m.task_id, to_string(finished->status));
  co_return job_outcome::done();
}

}  // namespace etl
