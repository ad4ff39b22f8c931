#include "etl/worker/batch_job.hpp"

#include <algorithm>
#include <span>
#include <string>
#include <unordered_set>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/animal/home_payload.hpp"
#include "etl/audit/audit_dump.hpp"
#include "etl/core/blocking.hpp"
#include "etl/core/error.hpp"
#include "etl/core/text.hpp"
#include "etl/core/uuid.hpp"
#include "etl/jobs/batch_message.hpp"
#include "etl/worker/batch_fetch.hpp"
#include "etl/worker/pipeline_batch.hpp"

namespace etl {
namespace {

// How long after its last attempt started a live run can take to record home's answer: the
// POST's own timeout plus this. A run that finds an earlier run's claim waits that long before
// it calls the batch in doubt.
constexpr std::chrono::seconds record_margin{2};

net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
}

std::vector<rejected_row> to_rows(const std::vector<rejected_record>& rejected) {
  std::vector<rejected_row> rows;
  rows.reserve(rejected.size());
  for (const auto& r : rejected)
    rows.push_back({r.id, r.reason.describe(), r.raw});
  return rows;
}

// One run of a batch job: what every phase needs.
struct batch_run {
  worker_context& ctx;
  const job& j;
  batch_message ref;
  std::string where;   // "task <id> batch <n>", for logs and errors
  batch_claimant who;  // this run: the job's entry id, fenced by its delivery count
  task_counters counts;
  std::vector<rejected_record> rejected;
  // What the claim gave this run to post, in listing order, and its ids ascending.
  std::vector<home_animal> to_post;
  std::vector<std::int64_t> ids;
  // to_post as requests of at most home_batch_max animals each, serialized before the claim:
  // nothing slow between the `posting` commit and the write.
  std::vector<home_request> requests;
  bool in_doubt = false;  // an earlier POST of the batch may have landed (ETL_IN_DOUBT)
  std::optional<std::string> audit_error;  // why the audit dump could not be written
};

// Keeps the batch's ledger row in step with its POST's attempts, under this run's claim: an
// answer that proves the POST was not taken puts the row back to pending before the backoff
// (so a worker that dies while waiting to retry leaves a plain pending batch, not one in doubt)
// and the next attempt claims it again first; any other retry first checks that the claim is
// still this run's. Either way a run fenced out by a newer one, or a batch another run recorded,
// stops the POST. A batch in doubt never goes back to pending: an earlier POST may have landed.
class ledger_post_guard final : public post_guard {
 public:
  ledger_post_guard(batch_run& run, bool may_release) : run_(run), may_release_(may_release) {}

  net::awaitable<verdict> not_taken() override {
    if (!may_release_)
      co_return verdict::unchanged;
    auto back =
        co_await run_.ctx.ledger().back_to_pending(run_.ref.task_id, run_.ref.batch_no, run_.who);
    if (!back) {
      // The row stays posting: a crash from here on is in doubt, as it was before.
      spdlog::error("{}: back to pending: {}", run_.where, back.error().message());
      co_return verdict::unchanged;
    }
    if (!*back) {
      lost_ = true;
      co_return verdict::stop;
    }
    pending_ = true;
    co_return verdict::released;
  }

  net::awaitable<error_code> resend(bool released) override {
    auto& ledger = run_.ctx.ledger();
    if (!released) {
      // Still posting under this claim, unless a newer run took it over; reading that costs
      // one round trip before a retry, which is rare. Unreadable (Postgres down): no newer run
      // can take the claim either, so carry on.
      auto mine = co_await ledger.confirm_claim(run_.ref.task_id, run_.ref.batch_no, run_.who);
      if (mine && !*mine) {
        lost_ = true;
        co_return make_error_code(errc::cancelled);
      }
      co_return error_code{};
    }
    auto claim =
        co_await ledger.claim_for_post(run_.ref.task_id, run_.ref.batch_no, run_.ids, run_.who);
    if (!claim)
      co_return claim.error();
    if (claim->outcome != claim_outcome::claimed || claim->ids != run_.ids) {
      // Cancelled while we waited, or a newer run of the job took the batch over.
      lost_ = true;
      co_return make_error_code(errc::cancelled);
    }
    pending_ = false;
    co_return error_code{};
  }

  bool pending() const noexcept { return pending_; }  // the row is pending, not posting
  bool lost() const noexcept { return lost_; }        // the batch is no longer this run's

 private:
  batch_run& run_;
  bool may_release_;
  bool pending_ = false;
  bool lost_ = false;
};

// Records the batch's outcome and its counts on the task; the job is done once it holds.
net::awaitable<job_outcome> record(batch_run& run, batch_outcome outcome,
                                   std::optional<std::string> error = std::nullopt,
                                   bool refused = false) {
  auto& ctx = run.ctx;
  batch_result result{outcome,          run.counts, to_rows(run.rejected),
                      std::move(error), refused,    run.audit_error};
  auto report =
      co_await ctx.ledger().finish_batch(run.ref.task_id, run.ref.batch_no, std::move(result));
  if (!report)
    co_return job_outcome::db_failure(run.where + ": finish", report.error());
  if (report->applied) {
    // Counted once, when recorded, so that /metrics agrees with the task's own counts.
    auto& m = ctx.counters();
    m.animals_posted += static_cast<std::uint64_t>(run.counts.posted);
    m.animals_rejected += static_cast<std::uint64_t>(run.counts.rejected);
    auto& batches = outcome == batch_outcome::failed            ? m.batches_failed
                    : outcome == batch_outcome::posted_in_doubt ? m.batches_in_doubt
                                                                : m.batches_posted;
    ++batches;
  }
  if (report->finalized)
    spdlog::info("task {}: {}", run.ref.task_id, to_string(report->status));
  co_return job_outcome::done();
}

// record() for a batch home has just taken. Only this run knows that: a redelivery would find
// the batch `posting` and could only call it in doubt. So while Postgres is unreachable it keeps
// trying to record it (finish_batch is idempotent), for as long as this process holds the job;
// it never goes back to the claim.
net::awaitable<job_outcome> record_posted(batch_run& run, batch_outcome outcome) {
  std::chrono::milliseconds pause{200};
  for (;;) {
    auto done = co_await record(run, outcome);
    if (done.verdict != job_verdict::wait)
      co_return done;
    if (!run.ctx.queue().holds(run.j)) {
      co_return job_outcome::stale(run.where +
                                   ": home took the batch, but the job was handed to another "
                                   "run before the ledger could record it: " +
                                   done.reason);
    }
    spdlog::warn(
        "{}: home took the batch but the ledger cannot record it yet ({}); trying again in {} ms",
        run.where, done.reason, pause.count());
    co_await sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{5'000});
  }
}

// Before an in-doubt batch is sent again (ETL_IN_DOUBT=resend): a run of this job claimed it
// earlier and may still be alive (its lease lapsed, or its process was paused) with its POST on
// the wire. Waits until no attempt of that run can be (its last attempt started when the claim
// was last confirmed), and at least `at_least` (home's longest pause), then reads the ledger
// again: a live earlier run has recorded home's answer or put the batch back to pending by then.
// Only the resend waits: recording a batch as in doubt at once costs nothing if a live earlier
// run records home's 2xx later, which clears the doubt, and a long wait would make a job that
// keeps losing its worker spend its deliveries.
net::awaitable<result<claim_result>> settle(batch_run& run, claim_result claim,
                                            std::chrono::milliseconds at_least,
                                            const std::vector<std::int64_t>& candidates) {
  const auto window =
      run.ctx.cfg().post_timeout + std::chrono::milliseconds{record_margin} - claim.claim_age;
  const auto wait = std::max(at_least, window);
  if (wait <= std::chrono::milliseconds{0})
    co_return claim;
  spdlog::info("{}: in doubt; waiting {} ms, then reading the ledger again before a resend",
               run.where, wait.count());
  co_await sleep_for(wait);
  co_return co_await run.ctx.ledger().claim_for_post(run.ref.task_id, run.ref.batch_no, candidates,
                                                     run.who);
}

// Phase 1: a cancelled task's batch posts nothing; a batch of it left in posting is resolved
// as in doubt, so the task counts it.
net::awaitable<std::optional<job_outcome>> skip_if_cancelled(batch_run& run) {
  auto& ctx = run.ctx;
  if (ctx.running().seen_running(run.ref.task_id))
    co_return std::nullopt;
  auto status = co_await ctx.tasks().get_status(run.ref.task_id);
  if (!status)
    co_return job_outcome::db_failure(run.where + ": task status", status.error());
  if (*status == task_status::running) {
    ctx.running().saw_running(run.ref.task_id);
    co_return std::nullopt;
  }
  if (*status != task_status::cancelled)
    co_return std::nullopt;
  // cancel_task skipped the pending batches; a claim records it for one that raced it.
  auto claim = co_await ctx.ledger().claim_for_post(run.ref.task_id, run.ref.batch_no, {}, run.who);
  if (!claim)
    co_return job_outcome::db_failure(run.where + ": claim", claim.error());
  if (claim->outcome == claim_outcome::stale)
    co_return job_outcome::stale(run.where + ": a newer run of the job holds the batch");
  if (claim->outcome != claim_outcome::in_doubt)
    co_return job_outcome::done();
  spdlog::warn("{}: task cancelled with the batch in posting: recorded as in doubt", run.where);
  run.counts.posted = static_cast<std::int64_t>(claim->ids.size());
  co_return co_await record(run, batch_outcome::posted_in_doubt);
}

// Phase 2: extract and transform. A fetch failure hands the job back for another delivery.
net::awaitable<std::optional<job_outcome>> extract(batch_run& run, fetched_batch& out) {
  auto& ctx = run.ctx;
  auto fetched = co_await fetch_batch(ctx.source(), run.ref.first_page, run.ref.last_page,
                                      static_cast<std::size_t>(ctx.cfg().concurrency));
  if (!fetched)
    co_return job_outcome::retry(run.where + ": " + fetched.error().reason);
  ctx.counters().animals_fetched += static_cast<std::uint64_t>(fetched->fetched);
  out = std::move(*fetched);
  run.counts.pages = out.pages;
  run.counts.fetched = out.fetched;
  run.counts.rejected = static_cast<std::int64_t>(out.rejected.size());
  run.counts.retries = out.retries;
  run.counts.hedges = out.hedges;
  run.counts.duplicates = out.repeated;
  run.rejected = std::move(out.rejected);
  co_return std::nullopt;
}

// Phase 3: claim the batch's ids in the ledger. Returns an outcome when the job ends here;
// otherwise run.to_post holds what to POST (possibly nothing) and run.in_doubt says how.
net::awaitable<std::optional<job_outcome>> claim(batch_run& run, fetched_batch& fetched) {
  auto& ctx = run.ctx;
  std::vector<std::int64_t> candidates;
  candidates.reserve(fetched.animals.size());
  for (const auto& a : fetched.animals)
    candidates.push_back(a.id);
  // Usually the claim gives the batch every candidate, and these requests are the ones sent.
  run.requests = home_requests(fetched.animals);
  auto claimed =
      co_await ctx.ledger().claim_for_post(run.ref.task_id, run.ref.batch_no, candidates, run.who);
  if (claimed && claimed->outcome == claim_outcome::in_doubt &&
      ctx.cfg().in_doubt == in_doubt_policy::resend) {
    spdlog::warn("{}: in doubt: waiting {} ms for home's longest pause, then sending again",
                 run.where, ctx.cfg().in_doubt_wait.count());
    // Read again right before the resend: a run that was still alive may have recorded it.
    claimed = co_await settle(run, std::move(*claimed), ctx.cfg().in_doubt_wait, candidates);
  }
  if (!claimed)
    co_return job_outcome::db_failure(run.where + ": claim", claimed.error());

  switch (claimed->outcome) {
    case claim_outcome::already_posted:
    case claim_outcome::already_failed:
    case claim_outcome::cancelled:
    case claim_outcome::claimed_elsewhere:
      co_return job_outcome::done();
    case claim_outcome::stale:
      co_return job_outcome::stale(run.where + ": a newer run of the job holds the batch");
    case claim_outcome::in_doubt:
    case claim_outcome::claimed:
      break;
  }
  // Candidates the batch does not own belong to another batch of the task: listed twice.
  std::unordered_set<std::int64_t> mine(claimed->ids.begin(), claimed->ids.end());
  for (auto& a : fetched.animals) {
    if (mine.contains(a.id))
      run.to_post.push_back(std::move(a));
  }
  run.counts.duplicates +=
      static_cast<std::int64_t>(candidates.size()) - static_cast<std::int64_t>(run.to_post.size());
  if (claimed->outcome == claim_outcome::in_doubt && ctx.cfg().in_doubt == in_doubt_policy::skip) {
    spdlog::warn("{}: in doubt (a POST may have reached home): marked posted, not re-sent",
                 run.where);
    run.counts.posted = static_cast<std::int64_t>(claimed->ids.size());
    co_return co_await record(run, batch_outcome::posted_in_doubt);
  }
  run.in_doubt = claimed->outcome == claim_outcome::in_doubt;
  if (run.to_post.size() != candidates.size())
    run.requests = home_requests(run.to_post);
  run.ids = std::move(claimed->ids);
  run.counts.posted = static_cast<std::int64_t>(run.to_post.size());
  co_return std::nullopt;
}

// Phase 4: POST what the claim gave this run, at most home_batch_max animals a request. Returns
// an outcome when the job ends here (a failure, or the batch lost to another run).
net::awaitable<std::optional<job_outcome>> deliver(batch_run& run) {
  auto& ctx = run.ctx;
  std::int64_t taken = 0;  // animals in the requests home answered 2xx
  for (std::size_t n = 0; n < run.requests.size(); ++n) {
    const bool first = n == 0;
    const auto animals = static_cast<std::int64_t>(run.requests[n].animals);
    // Only the first request of a fresh claim may put the batch back to pending: once one
    // request was taken, the batch stays posting until it is recorded.
    ledger_post_guard guard(run, !run.in_doubt && first);
    auto r = co_await ctx.home().post(ctx.home_target(), std::move(run.requests[n].body), &guard);
    if (r)
      run.counts.retries += r->attempts - 1;
    if (!r) {
      const auto& f = r.error();
      if (guard.lost()) {
        spdlog::info("{}: the batch was cancelled, recorded or taken over while its POST waited",
                     run.where);
        co_return job_outcome::stale(run.where + ": the batch is no longer this run's");
      }
      if (guard.pending() && f.error.category() != etl_category())
        co_return job_outcome::db_failure(run.where + ": claim again", f.error);
      // Unless the guard put it back to pending, the batch stays `posting`: its redelivery is
      // in doubt, never silently re-sent.
      co_return job_outcome::retry(run.where + ": POST to home: " + f.describe());
    }
    if (r->status < 200 || r->status >= 300) {
      // Only a 2xx is home taking the batch. A redirect (a home URL with a trailing slash) or a
      // refusal (400, 422...) is the same on every resend: the batch fails, naming the answer.
      std::string why = "home answered " + std::to_string(r->status);
      if (!r->location.empty())
        why += " (Location: " + storable_text(r->location, 200) + ")";
      if (!r->body.empty())
        why += ": " + storable_text(r->body, 300);
      // Refused, hence not in doubt, when this was the first request of a fresh claim.
      const bool refused = !run.in_doubt && first;
      run.counts.posted = taken;
      co_return co_await record(run, batch_outcome::failed, std::move(why), refused);
    }
    taken += animals;
  }
  co_return std::nullopt;
}

// Phase 5: the audit dump, off the event loop. A dump that fails is logged and kept on the
// batch's record, so etl-verify can say why those ids have no dump.
net::awaitable<void> dump(batch_run& run) {
  if (!run.ref.audit)
    co_return;
  auto& ctx = run.ctx;
  const auto ec = co_await run_blocking(ctx.files(), [&] {
    return write_audit_dump(ctx.cfg().audit_dir, run.ref.task_id, run.ref.batch_no, run.ids);
  });
  if (ec) {
    spdlog::error("{}: audit dump failed: {}", run.where, ec.message());
    run.audit_error = "audit dump failed: " + ec.message();
  }
}

}  // namespace

net::awaitable<job_outcome> run_batch_job(worker_context& ctx, const job& j) {
  auto ref = decode_batch_message(j.fields);
  if (!ref)
    co_return job_outcome::retry(ref.error().message);
  const auto* spec = ctx.pipeline(ref->pipeline);
  if (spec == nullptr) {
    co_return job_outcome::retry("batch: pipeline " + ref->pipeline +
                                 " is not one of this worker's");
  }
  if (spec->sinks.front().kind != sink_kind::http_batch)
    co_return co_await run_pipeline_batch(ctx, j, *ref, *spec);
  batch_run run{ctx,
                j,
                *ref,
                "task " + ref->task_id + " batch " + std::to_string(ref->batch_no),
                {j.id, j.deliveries}};

  if (auto ended = co_await skip_if_cancelled(run))
    co_return std::move(*ended);
  fetched_batch fetched;
  if (auto ended = co_await extract(run, fetched))
    co_return std::move(*ended);
  if (auto ended = co_await claim(run, fetched))
    co_return std::move(*ended);
  if (auto ended = co_await deliver(run))
    co_return std::move(*ended);
  co_await dump(run);
  co_return co_await record_posted(
      run, run.in_doubt ? batch_outcome::posted_in_doubt : batch_outcome::posted);
}

}  // namespace etl
