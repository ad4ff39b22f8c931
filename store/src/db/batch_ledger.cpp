#include "etl/db/batch_ledger.hpp"

#include <algorithm>
#include <iterator>
#include <tuple>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/result>

#include "etl/core/error.hpp"
#include "etl/db/cursor_store.hpp"

namespace etl {
namespace {

bool valid_counts(const task_counters& c) {
  return c.pages >= 0 && c.fetched >= 0 && c.posted >= 0 && c.rejected >= 0 && c.retries >= 0 &&
         c.hedges >= 0 && c.duplicates >= 0;
}

batch_state state_from_db(const pqxx::field& f) {
  auto s = parse_batch_state(f.c_str());
  if (!s)
    throw pqxx::conversion_error("unknown batch state '" + std::string(f.c_str()) + "'");
  return *s;
}

std::string rejected_json(const std::vector<rejected_row>& records) {
  json::array out;
  out.reserve(records.size());
  for (const auto& r : records) {
    json::object o;
    if (r.animal_id)
      o["animal_id"] = *r.animal_id;
    else
      o["animal_id"] = nullptr;
    o["reason"] = r.reason;
    o["raw"] = r.raw;
    out.push_back(std::move(o));
  }
  return json::serialize(out);
}

// Appends {"at": now, "batch": $2, "reason": $3} to tasks.errors, keeping the first and the last
// 50 (migration 0003).
constexpr const char* append_error_sql = "etl_append_error(errors, $2::integer, $3::text)";

}  // namespace

net::awaitable<result<claim_result>> batch_ledger::claim_for_post(
    std::string task_id, int batch_no, std::vector<std::int64_t> candidates, batch_claimant who) {
  if (!is_uuid(task_id) || batch_no < 0)
    co_return make_error_code(errc::invalid_argument);
  // Sorted so that two batches inserting overlapping ids lock them in the same order.
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  const std::string candidate_array = detail::pg_array(candidates);

  auto r = co_await db_->run([&](pqxx::work& tx) -> std::optional<claim_result> {
    const auto locked =
        exec_prepared_once(tx, "etl_claim_lock",
                           "SELECT b.state, t.status, b.attempts, b.claimed_by, b.claim_fence, "
                           "(extract(epoch FROM clock_timestamp() - b.updated_at) * 1000)::bigint "
                           "FROM batches b JOIN tasks t ON t.id = b.task_id "
                           "WHERE b.task_id = $1 AND b.batch_no = $2 FOR UPDATE OF b",
                           task_id, batch_no);
    if (locked.empty())
      return std::nullopt;
    const auto& row = locked[0];
    const batch_state state = state_from_db(row[0]);
    const task_status status = detail::status_from_db(row[1]);
    const std::string claimed_by = row[3].is_null() ? std::string() : row[3].as<std::string>();
    const std::int64_t fence = row[4].as<std::int64_t>();
    const bool same_job = !who.job.empty() && claimed_by == who.job;
    claim_result out;
    out.attempts = row[2].as<int>();
    auto ids_of = [](const pqxx::result& rows) {
      std::vector<std::int64_t> ids;
      ids.reserve(rows.size());
      for (const auto& id_row : rows)
        ids.push_back(id_row[0].as<std::int64_t>());
      return ids;
    };
    // A newer run of this job claimed the batch, pending or posting: this run is stale.
    if (same_job && fence > who.fence && !is_finished(state)) {
      out.outcome = claim_outcome::stale;
      return out;
    }
    switch (state) {
      case batch_state::posted:
        out.outcome = claim_outcome::already_posted;
        return out;
      case batch_state::failed:
        out.outcome = claim_outcome::already_failed;
        return out;
      case batch_state::skipped:
        out.outcome = claim_outcome::cancelled;
        return out;
      case batch_state::posting:
        // Another job's claim (a duplicate job for this batch) is that job's to resolve: it
        // may be posting right now. Only a run of the claiming job itself is in doubt.
        if (!who.job.empty() && !claimed_by.empty() && !same_job) {
          out.outcome = claim_outcome::claimed_elsewhere;
          return out;
        }
        if (same_job && fence < who.fence) {
          // Taken over: the older run's back_to_pending and resend are refused from now on.
          // updated_at stays: the claim's age tells how long its POST may still be on the wire.
          tx.exec_params("UPDATE batches SET claim_fence = $3 WHERE task_id = $1 AND batch_no = $2",
                         task_id, batch_no, who.fence);
        }
        out.outcome = claim_outcome::in_doubt;
        out.ids = ids_of(
            tx.exec_params("SELECT animal_id FROM task_ids WHERE task_id = $1 AND batch_no = $2 "
                           "ORDER BY animal_id",
                           task_id, batch_no));
        out.claim_age =
            std::chrono::milliseconds{std::max<std::int64_t>(0, row[5].as<std::int64_t>())};
        return out;
      case batch_state::pending:
        break;
    }
    if (status != task_status::running) {
      tx.exec_params(
          "UPDATE batches SET state = 'skipped', updated_at = now() "
          "WHERE task_id = $1 AND batch_no = $2",
          task_id, batch_no);
      out.outcome = claim_outcome::cancelled;
      return out;
    }
    // The batch owns the ids it inserts now (RETURNING) and those an earlier run of its claim
    // inserted (the SELECT's snapshot is taken before the INSERT, so it sees only those): one
    // statement, not an INSERT and a read-back. A concurrent claim of the same id by another
    // batch makes the insert wait for it; then the id is that batch's and DO NOTHING skips it.
    out.ids = ids_of(exec_prepared_once(
        tx, "etl_claim_ids",
        "WITH c AS (SELECT unnest($3::bigint[]) AS id), "
        "ins AS (INSERT INTO task_ids (task_id, animal_id, batch_no) "
        "        SELECT $1, id, $2 FROM c ORDER BY id ON CONFLICT DO NOTHING RETURNING animal_id) "
        "SELECT animal_id FROM ins "
        "UNION ALL SELECT animal_id FROM task_ids "
        "          WHERE task_id = $1 AND batch_no = $2 AND animal_id IN (SELECT id FROM c) "
        "ORDER BY 1",
        task_id, batch_no, candidate_array));
    out.outcome = claim_outcome::claimed;
    std::set_difference(candidates.begin(), candidates.end(), out.ids.begin(), out.ids.end(),
                        std::back_inserter(out.duplicates));
    if (!out.ids.empty()) {
      const auto updated = exec_prepared_once(
          tx, "etl_claim_posting",
          "UPDATE batches SET state = 'posting', attempts = attempts + 1, updated_at = now(), "
          "claimed_by = NULLIF($3, ''), claim_fence = $4 "
          "WHERE task_id = $1 AND batch_no = $2 RETURNING attempts",
          task_id, batch_no, who.job, who.fence);
      out.attempts = updated.at(0)[0].as<int>();
    }
    return out;
  });
  if (!r)
    co_return r.error();
  if (!*r)
    co_return make_error_code(db_errc::not_found);
  co_return std::move(**r);
}

net::awaitable<result<bool>> batch_ledger::back_to_pending(std::string task_id, int batch_no,
                                                           batch_claimant who) {
  if (!is_uuid(task_id) || batch_no < 0)
    co_return result<bool>(boost::system::in_place_error, make_error_code(errc::invalid_argument));
  // Only under the caller's own claim: a newer run that took the batch over may have a POST of
  // it on the wire, and a pending row would let a crash hide that POST.
  constexpr const char* mine = "($3 = '' OR (claimed_by = $3 AND claim_fence = $4))";
  auto r = co_await db_->run([&](pqxx::work& tx) -> std::optional<bool> {
    const auto rows =
        tx.exec_params(std::string("SELECT state = 'pending' OR state = 'posting', ") + mine +
                           " FROM batches WHERE task_id = $1 AND batch_no = $2 FOR UPDATE",
                       task_id, batch_no, who.job, who.fence);
    if (rows.empty())
      return std::nullopt;
    if (!rows[0][0].as<bool>() || !rows[0][1].as<bool>())
      return false;
    tx.exec_params(
        "UPDATE batches SET state = 'pending', updated_at = now() "
        "WHERE task_id = $1 AND batch_no = $2 AND state = 'posting'",
        task_id, batch_no);
    return true;
  });
  if (!r)
    co_return result<bool>(boost::system::in_place_error, r.error());
  if (!*r)
    co_return result<bool>(boost::system::in_place_error, make_error_code(db_errc::not_found));
  co_return **r;
}

net::awaitable<result<bool>> batch_ledger::confirm_claim(std::string task_id, int batch_no,
                                                         batch_claimant who) {
  if (!is_uuid(task_id) || batch_no < 0)
    co_return result<bool>(boost::system::in_place_error, make_error_code(errc::invalid_argument));
  co_return co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "UPDATE batches SET updated_at = now() WHERE task_id = $1 AND batch_no = $2 "
        "AND state = 'posting' AND ($3 = '' OR (claimed_by = $3 AND claim_fence = $4)) "
        "RETURNING 1",
        task_id, batch_no, who.job, who.fence);
    return !rows.empty();
  });
}

// One call of finish_batch, on its caller's coroutine frame while it waits. The first call
// finds no transaction of finishes under way and commits one; calls made meanwhile queue here
// and are committed together by the next one, which the committing call picks and wakes
// (`lead`) before waking the others. Why: every finish of a task updates the task row and
// holds its lock through the commit's WAL flush, so one transaction per batch made a task's
// batches wait for each other's flushes (bench/README.md, "Where the time goes").
struct batch_ledger::finish_request {
  explicit finish_request(net::any_io_executor ex) : wake(std::move(ex), 1) {}
  std::string task_id;
  int batch_no = 0;
  batch_result outcome;
  std::string rejected;  // outcome.rejected as JSON
  result<finish_report> report = make_error_code(db_errc::not_found);
  bool lead = false;  // woken to commit the next group, not with a report
  net::experimental::concurrent_channel<void(error_code)> wake;
};

namespace {

using finish_group = std::vector<std::optional<finish_report>>;

// Writes one batch's row and rejected records; nothing for a batch already finished.
void record_batch(pqxx::work& tx, const batch_result& outcome, const std::string& task_id,
                  int batch_no, const std::string& rejected, bool in_doubt) {
  const bool failed = outcome.outcome == batch_outcome::failed;
  const auto& c = outcome.counts;
  exec_prepared_once(
      tx, "etl_record_batch",
      "UPDATE batches SET state = $3, posted_count = $4, rejected_count = $5, in_doubt = $6, "
      "error = $7, audit_error = $8, updated_at = now() WHERE task_id = $1 AND batch_no = $2",
      task_id, batch_no, std::string(failed ? "failed" : "posted"), static_cast<int>(c.posted),
      static_cast<int>(c.rejected), in_doubt, outcome.error ? outcome.error->c_str() : nullptr,
      outcome.audit_error ? outcome.audit_error->c_str() : nullptr);
  if (!outcome.rejected.empty())
    tx.exec_params(
        "INSERT INTO rejected_records (task_id, batch_no, animal_id, reason, raw) "
        "SELECT $1, $2, r.animal_id, r.reason, r.raw "
        "FROM jsonb_to_recordset($3::jsonb) AS r(animal_id bigint, reason text, raw text)",
        task_id, batch_no, rejected);
}

// Rows of (batch_no, a fact of the batch, animal_id or null), ordered by batch_no then id: one
// Batch per batch_no, made by `make` from its first row, with the ids it owns ascending.
template <class Batch, class Make>
std::vector<Batch> batches_with_ids(const pqxx::result& rows, Make make) {
  std::vector<Batch> out;
  for (const auto& row : rows) {
    if (out.empty() || out.back().batch_no != row[0].as<int>())
      out.push_back(make(row));
    if (!row[2].is_null())
      out.back().ids.push_back(row[2].as<std::int64_t>());
  }
  return out;
}

// A batch recorded as posted in doubt turned out posted: neither it nor its task is in doubt.
void clear_doubt(pqxx::work& tx, const std::string& task_id, int batch_no) {
  tx.exec_params(
      "UPDATE batches SET in_doubt = false, updated_at = now() WHERE task_id = $1 AND batch_no = "
      "$2",
      task_id, batch_no);
  tx.exec_params(
      "UPDATE tasks SET in_doubt = in_doubt - 1, updated_at = now() WHERE id = $1 AND in_doubt > 0",
      task_id);
}

// Adds one recorded batch's counts to its task and finalizes the task when it was the last.
void add_to_task(pqxx::work& tx, const batch_result& outcome, const std::string& task_id,
                 int batch_no, bool in_doubt, finish_report& out) {
  const bool failed = outcome.outcome == batch_outcome::failed;
  const std::string reason = outcome.error.value_or(failed ? "batch failed" : std::string());
  const auto& c = outcome.counts;
  const auto totals = exec_prepared_once(
      tx, "etl_add_to_task",
      std::string("UPDATE tasks SET pages = pages + $4, fetched = fetched + $5, "
                  "posted = posted + $6, rejected = rejected + $7, retries = retries + $8, "
                  "hedges = hedges + $9, in_doubt = in_doubt + $10, "
                  "batches_done = batches_done + $11, batches_failed = batches_failed + $12, "
                  "duplicates = duplicates + $13, "
                  "updated_at = now(), errors = CASE WHEN $12 = 1 THEN ") +
          append_error_sql +
          " ELSE errors END WHERE id = $1 "
          "RETURNING batches_total, batches_done, batches_failed, status",
      task_id, batch_no, reason, c.pages, c.fetched, c.posted, c.rejected, c.retries, c.hedges,
      in_doubt ? 1 : 0, failed ? 0 : 1, failed ? 1 : 0, c.duplicates);
  const auto& row = totals.at(0);
  const int total = row[0].as<int>();
  const int done = row[1].as<int>();
  const int failures = row[2].as<int>();
  out.status = detail::status_from_db(row[3]);
  if (out.status == task_status::running && done + failures >= total) {
    out.status = failures > 0 ? task_status::failed : task_status::succeeded;
    out.finalized = true;
    const std::string summary =
        std::to_string(failures) + " of " + std::to_string(total) + " batches failed";
    tx.exec_params(
        "UPDATE tasks SET status = $2, finished_at = now(), updated_at = now(), "
        "errors = CASE WHEN $2 = 'failed' THEN etl_append_error(errors, NULL, $3::text) "
        "ELSE errors END WHERE id = $1",
        task_id, std::string(to_string(out.status)), summary);
    if (out.status == task_status::succeeded)
      finish_task_cursor(tx, task_id);
  }
}

}  // namespace

net::awaitable<result<finish_report>> batch_ledger::finish_batch(std::string task_id, int batch_no,
                                                                 batch_result outcome) {
  if (!is_uuid(task_id) || batch_no < 0 || !valid_counts(outcome.counts))
    co_return make_error_code(errc::invalid_argument);
  finish_request req(co_await net::this_coro::executor);
  req.task_id = std::move(task_id);
  req.batch_no = batch_no;
  req.rejected = rejected_json(outcome.rejected);
  req.outcome = std::move(outcome);
  bool lead = false;
  {
    std::lock_guard lock(finish_mu_);
    finish_queue_.push_back(&req);
    lead = !finishing_;
    finishing_ = true;
  }
  if (!lead) {
    co_await req.wake.async_receive(net::as_tuple(net::use_awaitable));
    if (!req.lead)
      co_return std::move(req.report);
  }
  co_await commit_finishes(&req);
  co_return std::move(req.report);
}

net::awaitable<void> batch_ledger::commit_finishes(finish_request* self) {
  std::vector<finish_request*> group;
  {
    std::lock_guard lock(finish_mu_);
    group.swap(finish_queue_);
  }
  // Batch rows first, then task rows, each in (task, batch) order: two groups lock in the same
  // order. The task row is locked last, by the UPDATE of its counters, so it is held for the
  // rest of the transaction and the flush only; that UPDATE's lock is also what lets exactly
  // one of several concurrent finishes see done + failed reach the total. cancel_task and
  // fail_task lock the task first, then skip pending batches: with a finish on a pending batch
  // (no ids to post, or a dead-lettered job) that can deadlock, which Postgres breaks and
  // db_pool reruns.
  std::vector<std::size_t> order(group.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(group[a]->task_id, group[a]->batch_no) <
           std::tie(group[b]->task_id, group[b]->batch_no);
  });
  // The transaction body for the finishes `which` (indices into group, in lock order).
  auto body_for = [&group](const std::vector<std::size_t>& which) {
    return [&group, &which](pqxx::work& tx) {
      finish_group out(group.size());
      std::vector<char> doubt(group.size(), 0);
      for (const std::size_t i : which) {
        const auto& req = *group[i];
        // The same batch twice in one group (a duplicate job) reads the first one's write here
        // and finds the batch finished, as it would in a transaction of its own.
        const auto rows = tx.exec_params(
            "SELECT b.state, t.status, b.in_doubt FROM batches b JOIN tasks t ON t.id = b.task_id "
            "WHERE b.task_id = $1 AND b.batch_no = $2 FOR UPDATE OF b",
            req.task_id, req.batch_no);
        if (rows.empty())
          continue;
        finish_report report;
        report.state = state_from_db(rows[0][0]);
        report.status = detail::status_from_db(rows[0][1]);
        if (report.state == batch_state::posted && rows[0][2].as<bool>() &&
            req.outcome.outcome == batch_outcome::posted) {
          // Recorded in doubt by a newer run, and now the run whose POST it was heard home's
          // 2xx: the batch is known posted (its counts were added then).
          clear_doubt(tx, req.task_id, req.batch_no);
          report.doubt_cleared = true;
        }
        if (!is_finished(report.state)) {
          // A batch that fails in posting keeps its doubt unless home refused this very claim.
          const auto o = req.outcome.outcome;
          doubt[i] = o == batch_outcome::posted_in_doubt ||
                     (o == batch_outcome::failed && report.state == batch_state::posting &&
                      !req.outcome.refused);
          if (req.outcome.in_transaction)
            req.outcome.in_transaction(tx);
          record_batch(tx, req.outcome, req.task_id, req.batch_no, req.rejected, doubt[i] != 0);
          report.applied = true;
          report.state = req.outcome.outcome == batch_outcome::failed ? batch_state::failed
                                                                      : batch_state::posted;
        }
        out[i] = report;
      }
      for (const std::size_t i : which) {
        if (out[i] && out[i]->applied)
          add_to_task(tx, group[i]->outcome, group[i]->task_id, group[i]->batch_no, doubt[i] != 0,
                      *out[i]);
      }
      return out;
    };
  };
  // Hands each of `which` its report from `done`.
  auto report_to = [&group](const std::vector<std::size_t>& which,
                            const result<finish_group>& done) {
    for (const std::size_t i : which) {
      if (!done)
        group[i]->report = done.error();
      else if ((*done)[i])
        group[i]->report = *(*done)[i];
      else
        group[i]->report = make_error_code(db_errc::not_found);
    }
  };
  result<finish_group> done = make_error_code(db_errc::query_failed);
  try {
    done = co_await db_->run(body_for(order));
  } catch (const std::exception& e) {
    // A bug; the waiting calls must still be woken, each with an error.
    spdlog::error("batch ledger: committing {} finish(es) threw: {}", group.size(), e.what());
  }
  report_to(order, done);
  if (!done && group.size() > 1 && done.error() == db_errc::query_failed) {
    // One finish the database refuses must not fail the others with it, delivery after
    // delivery: each alone, so only its own call gets the error.
    spdlog::warn("batch ledger: {} finishes committed together failed ({}); committing each alone",
                 group.size(), done.error().message());
    for (const std::size_t i : order) {
      const std::vector<std::size_t> one{i};
      result<finish_group> alone = make_error_code(db_errc::query_failed);
      try {
        alone = co_await db_->run(body_for(one));
      } catch (const std::exception& e) {
        spdlog::error("batch ledger: committing a finish threw: {}", e.what());
      }
      report_to(one, alone);
    }
  }
  // Pick the next committer before waking anyone: a woken call returns and its request is gone.
  finish_request* next = nullptr;
  {
    std::lock_guard lock(finish_mu_);
    if (finish_queue_.empty()) {
      finishing_ = false;
    } else {
      next = finish_queue_.front();
      next->lead = true;
    }
  }
  for (auto* req : group) {
    if (req != self)
      req->wake.try_send(error_code{});
  }
  if (next)
    next->wake.try_send(error_code{});
}

net::awaitable<result<std::vector<doubtful_batch>>> batch_ledger::list_in_doubt(
    std::string task_id) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "SELECT b.batch_no, b.state, ti.animal_id FROM batches b "
        "LEFT JOIN task_ids ti ON ti.task_id = b.task_id AND ti.batch_no = b.batch_no "
        "WHERE b.task_id = $1 AND (b.in_doubt OR b.state = 'posting') "
        "ORDER BY b.batch_no, ti.animal_id",
        task_id);
    return batches_with_ids<doubtful_batch>(rows, [](const pqxx::row& row) {
      return doubtful_batch{row[0].as<int>(), state_from_db(row[1]), {}};
    });
  });
}

net::awaitable<result<std::vector<undumped_batch>>> batch_ledger::list_undumped(
    std::string task_id) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "SELECT b.batch_no, b.audit_error, ti.animal_id FROM batches b "
        "LEFT JOIN task_ids ti ON ti.task_id = b.task_id AND ti.batch_no = b.batch_no "
        "WHERE b.task_id = $1 AND b.audit_error IS NOT NULL ORDER BY b.batch_no, ti.animal_id",
        task_id);
    return batches_with_ids<undumped_batch>(rows, [](const pqxx::row& row) {
      return undumped_batch{row[0].as<int>(), row[1].as<std::string>(), {}};
    });
  });
}

net::awaitable<result<std::optional<batch_state>>> batch_ledger::state_of(std::string task_id,
                                                                          int batch_no) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) -> std::optional<batch_state> {
    const auto rows = tx.exec_params(
        "SELECT state FROM batches WHERE task_id = $1 AND batch_no = $2", task_id, batch_no);
    if (rows.empty())
      return std::nullopt;
    return state_from_db(rows[0][0]);
  });
}

net::awaitable<result<std::vector<rejected_id>>> batch_ledger::list_rejected(std::string task_id) {
  if (!is_uuid(task_id))
    co_return make_error_code(errc::invalid_argument);
  co_return co_await db_->run([&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "SELECT animal_id, reason FROM rejected_records WHERE task_id = $1 "
        "ORDER BY animal_id NULLS LAST, batch_no",
        task_id);
    std::vector<rejected_id> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      rejected_id r;
      if (!row[0].is_null())
        r.animal_id = row[0].as<std::int64_t>();
      r.reason = row[1].as<std::string>();
      out.push_back(std::move(r));
    }
    return out;
  });
}

}  // namespace etl
