#include "etl/worker/batch_job.hpp"

#include <algorithm>
#include <unordered_set>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/animal/home_payload.hpp"
#include "etl/audit/audit_dump.hpp"
#include "etl/core/error.hpp"
#include "etl/core/text.hpp"
#include "etl/core/uuid.hpp"
#include "etl/worker/batch_fetch.hpp"

namespace etl {
namespace {

struct batch_ref {
  std::string task_id;
  int batch_no = 0;
  int first_page = 1;
  int last_page = 1;
  bool audit = false;
};

std::optional<batch_ref> read_ref(const job& j) {
  batch_ref r;
  r.task_id = field(j.fields, "task");
  auto no = int_field(j.fields, "batch");
  auto first = int_field(j.fields, "first_page");
  auto last = int_field(j.fields, "last_page");
  if (!is_uuid(r.task_id) || !no || !first || !last || *no < 0 || *first < 1 || *last < *first) {
    return std::nullopt;
  }
  r.batch_no = *no;
  r.first_page = *first;
  r.last_page = *last;
  r.audit = field(j.fields, "audit") == "1";
  return r;
}

std::vector<rejected_row> to_rows(const std::vector<rejected_record>& rejected) {
  std::vector<rejected_row> rows;
  rows.reserve(rejected.size());
  for (const auto& r : rejected)
    rows.push_back({r.id, r.reason.describe(), r.raw});
  return rows;
}

// Home's answer proves the POST was not taken: it never arrived (connect failures) or was
// turned away before handling (429, 502, 503, 504). A 500 does not prove it: in verify mode
// home answers 500 after taking part of the array.
bool proves_not_taken(const http_failure& f) {
  // Any other error is a timeout or a reset after the request went out whole: it may land.
  if (f.error != errc::retries_exhausted && f.error != errc::deadline_exceeded)
    return false;
  // Retried transport failures of a POST all happened before the request went out whole.
  if (f.last_status == 0)
    return true;
  return f.last_status == 429 || f.last_status == 502 || f.last_status == 503 ||
         f.last_status == 504;
}

// Records the batch's outcome and its counts on the task; the job is done once it holds.
net::awaitable<job_outcome> finish(worker_context& ctx, const batch_ref& ref,
                                   const std::string& where, batch_outcome outcome,
                                   const task_counters& counts,
                                   const std::vector<rejected_record>& rejected,
                                   std::optional<std::string> error) {
  batch_result result{outcome, counts, to_rows(rejected), std::move(error)};
  auto report = co_await ctx.ledger().finish_batch(ref.task_id, ref.batch_no, std::move(result));
  if (!report)
    co_return job_outcome::db_failure(where + ": finish", report.error());
  if (report->applied) {
    // Counted once, when recorded, so that /metrics agrees with the task's own counts.
    auto& m = ctx.counters();
    m.animals_posted += static_cast<std::uint64_t>(counts.posted);
    m.animals_rejected += static_cast<std::uint64_t>(counts.rejected);
    auto& batches = outcome == batch_outcome::failed            ? m.batches_failed
                    : outcome == batch_outcome::posted_in_doubt ? m.batches_in_doubt
                                                                : m.batches_posted;
    ++batches;
  }
  if (report->finalized)
    spdlog::info("task {}: {}", ref.task_id, to_string(report->status));
  co_return job_outcome::done();
}

// finish() for a batch home has just taken. Only this run knows that: a redelivery would find
// the batch `posting` and could only call it in doubt. So while Postgres is unreachable it
// keeps trying to record it (finish_batch is idempotent), for at most
// `posted_record_patience`, longer than a restart or a short failover.
constexpr std::chrono::seconds posted_record_patience{120};

net::awaitable<job_outcome> finish_posted(worker_context& ctx, const batch_ref& ref,
                                          const std::string& where, batch_outcome outcome,
                                          const task_counters& counts,
                                          const std::vector<rejected_record>& rejected) {
  const auto give_up = std::chrono::steady_clock::now() + posted_record_patience;
  std::chrono::milliseconds pause{200};
  for (;;) {
    auto done = co_await finish(ctx, ref, where, outcome, counts, rejected, std::nullopt);
    if (done.verdict != job_verdict::wait || std::chrono::steady_clock::now() + pause > give_up)
      co_return done;
    spdlog::warn(
        "{}: home took the batch but the ledger cannot record it yet ({}); trying "
        "again in {} ms",
        where, done.reason, pause.count());
    net::steady_timer t(co_await net::this_coro::executor, pause);
    co_await t.async_wait(net::as_tuple(net::use_awaitable));
    pause = std::min(pause * 2, std::chrono::milliseconds{5'000});
  }
}

}  // namespace

net::awaitable<job_outcome> run_batch_job(worker_context& ctx, const job& j) {
  const auto ref = read_ref(j);
  if (!ref)
    co_return job_outcome::retry("batch job with malformed fields");
  const auto where = "task " + ref->task_id + " batch " + std::to_string(ref->batch_no);

  if (!ctx.running().seen_running(ref->task_id)) {
    auto status = co_await ctx.tasks().get_status(ref->task_id);
    if (!status)
      co_return job_outcome::db_failure(where + ": task status", status.error());
    if (*status == task_status::cancelled) {
      // cancel_task skipped the pending batches; a claim records it for one that raced it.
      (void)co_await ctx.ledger().claim_for_post(ref->task_id, ref->batch_no, {}, j.id);
      co_return job_outcome::done();
    }
    if (*status == task_status::running)
      ctx.running().saw_running(ref->task_id);
  }

  auto fetched = co_await fetch_batch(ctx.source(), ref->first_page, ref->last_page,
                                      static_cast<std::size_t>(ctx.cfg().concurrency));
  if (!fetched)
    co_return job_outcome::retry(where + ": " + fetched.error().reason);
  ctx.counters().animals_fetched += static_cast<std::uint64_t>(fetched->fetched);

  task_counters counts;
  counts.pages = fetched->pages;
  counts.fetched = fetched->fetched;
  counts.rejected = static_cast<std::int64_t>(fetched->rejected.size());
  counts.retries = fetched->retries;
  counts.hedges = fetched->hedges;

  std::vector<std::int64_t> candidates;
  candidates.reserve(fetched->animals.size());
  for (const auto& a : fetched->animals)
    candidates.push_back(a.id);
  auto claim = co_await ctx.ledger().claim_for_post(ref->task_id, ref->batch_no, candidates, j.id);
  if (!claim)
    co_return job_outcome::db_failure(where + ": claim", claim.error());

  std::vector<home_animal> to_post;
  auto select_owned = [&](const std::vector<std::int64_t>& owned) {
    std::unordered_set<std::int64_t> mine(owned.begin(), owned.end());
    for (auto& a : fetched->animals) {
      if (mine.contains(a.id))
        to_post.push_back(std::move(a));
    }
  };

  switch (claim->outcome) {
    case claim_outcome::already_posted:
    case claim_outcome::already_failed:
    case claim_outcome::cancelled:
    case claim_outcome::claimed_elsewhere:
      co_return job_outcome::done();
    case claim_outcome::in_doubt:
      if (ctx.cfg().in_doubt == in_doubt_policy::skip) {
        spdlog::warn("{}: in doubt (a POST may have reached home): marked posted, not re-sent",
                     where);
        counts.posted = static_cast<std::int64_t>(claim->ids.size());
        co_return co_await finish(ctx, *ref, where, batch_outcome::posted_in_doubt, counts,
                                  fetched->rejected, std::nullopt);
      }
      spdlog::warn("{}: in doubt: waiting {} ms for home's longest pause, then sending again",
                   where, ctx.cfg().in_doubt_wait.count());
      {
        net::steady_timer wait(co_await net::this_coro::executor, ctx.cfg().in_doubt_wait);
        co_await wait.async_wait(net::as_tuple(net::use_awaitable));
      }
      select_owned(claim->ids);
      break;
    case claim_outcome::claimed:
      select_owned(claim->ids);
      break;
  }

  const bool in_doubt = claim->outcome == claim_outcome::in_doubt;
  counts.posted = static_cast<std::int64_t>(to_post.size());
  std::vector<std::int64_t> posted_ids;
  posted_ids.reserve(to_post.size());
  for (const auto& a : to_post)
    posted_ids.push_back(a.id);

  if (!to_post.empty()) {
    auto body = serialize_home_batch(to_post);
    auto r = co_await ctx.home().post(ctx.home_target(), std::move(body));
    if (r)
      counts.retries += r->attempts - 1;
    if (!r) {
      const auto& f = r.error();
      counts.retries += std::max(f.attempts - 1, 0);
      if (proves_not_taken(f)) {
        auto back = co_await ctx.ledger().back_to_pending(ref->task_id, ref->batch_no);
        if (!back)
          spdlog::error("{}: back to pending: {}", where, back.error().message());
      }
      // Otherwise the batch stays `posting`: its redelivery is in doubt, never silently re-sent.
      co_return job_outcome::retry(where + ": POST to home: " + f.describe());
    }
    if (r->status >= 400) {
      // Home refused the batch for what it holds (400, 422...): sending it again changes nothing.
      co_return co_await finish(
          ctx, *ref, where, batch_outcome::failed, counts, fetched->rejected,
          "home answered " + std::to_string(r->status) + ": " + storable_text(r->body, 300));
    }
  }
  if (ref->audit) {
    if (auto ec = write_audit_dump(ctx.cfg().audit_dir, ref->task_id, ref->batch_no, posted_ids)) {
      spdlog::error("{}: audit dump failed: {}", where, ec.message());
    }
  }
  co_return co_await finish_posted(
      ctx, *ref, where, in_doubt ? batch_outcome::posted_in_doubt : batch_outcome::posted, counts,
      fetched->rejected);
}

}  // namespace etl
