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

// Keeps the batch's ledger row in step with its POST's attempts: an answer that proves the POST
// was not taken puts the row back to pending before the backoff, so a worker that dies while
// waiting to retry leaves a plain pending batch, not one in doubt; the next attempt claims it
// again first. Only for a fresh claim: a batch already in doubt stays in doubt whatever its
// resend hears, since an earlier POST may have landed.
class ledger_post_guard final : public post_guard {
 public:
  ledger_post_guard(worker_context& ctx, const batch_ref& ref, const std::string& where,
                    const std::vector<std::int64_t>& ids, const std::string& claimant)
      : ctx_(ctx), ref_(ref), where_(where), ids_(ids), claimant_(claimant) {
    std::sort(ids_.begin(), ids_.end());  // as the ledger answers them
  }

  net::awaitable<bool> not_taken() override {
    auto back = co_await ctx_.ledger().back_to_pending(ref_.task_id, ref_.batch_no);
    if (!back) {
      // The row stays posting: a crash from here on is in doubt, as it was before.
      spdlog::error("{}: back to pending: {}", where_, back.error().message());
      co_return false;
    }
    pending_ = *back == batch_state::pending;
    co_return pending_;
  }

  net::awaitable<error_code> resend() override {
    auto claim =
        co_await ctx_.ledger().claim_for_post(ref_.task_id, ref_.batch_no, ids_, claimant_);
    if (!claim)
      co_return claim.error();
    if (claim->outcome != claim_outcome::claimed || claim->ids != ids_) {
      // Cancelled while we waited, or a redelivered copy of the job took the batch over.
      lost_ = true;
      co_return make_error_code(errc::cancelled);
    }
    pending_ = false;
    co_return error_code{};
  }

  bool pending() const noexcept { return pending_; }  // the row is pending, not posting
  bool lost() const noexcept { return lost_; }        // the batch is no longer this job's

 private:
  worker_context& ctx_;
  const batch_ref& ref_;
  const std::string& where_;
  std::vector<std::int64_t> ids_;
  const std::string& claimant_;
  bool pending_ = false;
  bool lost_ = false;
};

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
    ledger_post_guard guard(ctx, *ref, where, posted_ids, j.id);
    auto r =
        co_await ctx.home().post(ctx.home_target(), std::move(body), in_doubt ? nullptr : &guard);
    if (r)
      counts.retries += r->attempts - 1;
    if (!r) {
      const auto& f = r.error();
      if (guard.lost()) {
        spdlog::info("{}: the batch was cancelled or taken over while its POST waited to retry",
                     where);
        co_return job_outcome::done();
      }
      if (guard.pending() && f.error.category() != etl_category())
        co_return job_outcome::db_failure(where + ": claim again", f.error);
      // Unless the guard put it back to pending, the batch stays `posting`: its redelivery is
      // in doubt, never silently re-sent.
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
