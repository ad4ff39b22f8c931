#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include <pqxx/result>

#include "db_test_env.hpp"
#include "etl/core/error.hpp"
#include "etl/db/batch_ledger.hpp"
#include "etl/db/tasks_repository.hpp"

namespace etl::test {
namespace {

using ids = std::vector<std::int64_t>;

class batch_ledger_test : public db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    tasks_ = std::make_unique<tasks_repository>(*db_);
    ledger_ = std::make_unique<batch_ledger>(*db_);
  }
  // A running task with `batches` pending batches.
  std::string started_task(int batches) {
    auto t = await(tasks_->create_task(false, std::nullopt, json::object{}));
    EXPECT_TRUE(t);
    std::vector<batch_plan> plan;
    for (int i = 0; i < batches; ++i)
      plan.push_back({i, i * 10 + 1, i * 10 + 10});
    EXPECT_TRUE(await(tasks_->start_task(t->value.id, batches * 10, plan)));
    return t->value.id;
  }
  batch state_of(const std::string& id, int batch_no) {
    auto all = await(tasks_->list_batches(id));
    EXPECT_TRUE(all);
    return all->at(static_cast<std::size_t>(batch_no));
  }
  task task_of(const std::string& id) { return **await(tasks_->get_task(id)); }
  static batch_result posted(std::int64_t count) {
    batch_result r;
    r.counts.pages = 10;
    r.counts.fetched = count;
    r.counts.posted = count;
    r.counts.retries = 1;
    return r;
  }
  std::unique_ptr<tasks_repository> tasks_;
  std::unique_ptr<batch_ledger> ledger_;
};

TEST_F(batch_ledger_test, claim_post_finish_and_every_double_call) {
  const auto id = started_task(2);
  auto claim = await(ledger_->claim_for_post(id, 0, {3, 1, 2, 2}));
  ASSERT_TRUE(claim) << claim.error().message();
  EXPECT_EQ(claim->outcome, claim_outcome::claimed);
  EXPECT_EQ(claim->ids, (ids{1, 2, 3}));
  EXPECT_TRUE(claim->duplicates.empty());
  EXPECT_EQ(claim->attempts, 1);
  EXPECT_EQ(state_of(id, 0).state, batch_state::posting);

  // Redelivered while posting: in doubt, with the ids of the POST that may have landed.
  auto doubt = await(ledger_->claim_for_post(id, 0, {1, 2, 3}));
  ASSERT_TRUE(doubt);
  EXPECT_EQ(doubt->outcome, claim_outcome::in_doubt);
  EXPECT_EQ(doubt->ids, (ids{1, 2, 3}));
  EXPECT_EQ(state_of(id, 0).attempts, 1);

  auto done = await(ledger_->finish_batch(id, 0, posted(3)));
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_TRUE(done->applied);
  EXPECT_EQ(done->state, batch_state::posted);
  EXPECT_EQ(done->status, task_status::running);
  EXPECT_FALSE(done->finalized);

  auto twice = await(ledger_->finish_batch(id, 0, posted(3)));
  ASSERT_TRUE(twice);
  EXPECT_FALSE(twice->applied);
  EXPECT_EQ(twice->state, batch_state::posted);
  const task t = task_of(id);
  EXPECT_EQ(t.counters.posted, 3);  // counted once
  EXPECT_EQ(t.counters.pages, 10);
  EXPECT_EQ(t.batches_done, 1);

  auto after = await(ledger_->claim_for_post(id, 0, {1, 2, 3}));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->outcome, claim_outcome::already_posted);
  EXPECT_TRUE(after->ids.empty());
  EXPECT_FALSE(*await(ledger_->back_to_pending(id, 0)));  // posted: no longer a claim's

  auto last = await(ledger_->finish_batch(id, 1, posted(0)));  // pending -> posted: no ids
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->finalized);
  EXPECT_EQ(last->status, task_status::succeeded);
  EXPECT_TRUE(task_of(id).finished_at);

  EXPECT_EQ(await(ledger_->claim_for_post(id, 7, {1})).error(), db_errc::not_found);
  EXPECT_EQ(await(ledger_->finish_batch(id, 7, posted(1))).error(), db_errc::not_found);
  EXPECT_EQ(await(ledger_->claim_for_post("x", 0, {1})).error(), errc::invalid_argument);
  batch_result negative = posted(1);
  negative.counts.fetched = -1;
  EXPECT_EQ(await(ledger_->finish_batch(id, 1, negative)).error(), errc::invalid_argument);
}

TEST_F(batch_ledger_test, back_to_pending_then_the_retry_claims_the_same_ids) {
  const auto id = started_task(1);
  ASSERT_EQ(await(ledger_->claim_for_post(id, 0, {5, 6}))->outcome, claim_outcome::claimed);
  EXPECT_TRUE(*await(ledger_->back_to_pending(id, 0)));
  EXPECT_TRUE(*await(ledger_->back_to_pending(id, 0)));
  auto retry = await(ledger_->claim_for_post(id, 0, {5, 6}));
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->outcome, claim_outcome::claimed);
  EXPECT_EQ(retry->ids, (ids{5, 6}));
  EXPECT_EQ(retry->attempts, 2);
  EXPECT_EQ(await(ledger_->back_to_pending(id, 9)).error(), db_errc::not_found);
}

TEST_F(batch_ledger_test, an_id_shared_by_two_batches_is_owned_once) {
  const auto id = started_task(2);
  auto a = await(ledger_->claim_for_post(id, 0, {1, 2, 3}));
  auto b = await(ledger_->claim_for_post(id, 1, {3, 4, 5}));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ids, (ids{1, 2, 3}));
  EXPECT_EQ(b->ids, (ids{4, 5}));
  EXPECT_EQ(b->duplicates, (ids{3}));
  // Batch 1 retried after back_to_pending still does not get id 3.
  ASSERT_TRUE(await(ledger_->back_to_pending(id, 1)));
  auto again = await(ledger_->claim_for_post(id, 1, {3, 4, 5}));
  EXPECT_EQ(again->ids, (ids{4, 5}));

  // A batch whose every id belongs to another batch has nothing to post and stays pending.
  const auto other = started_task(2);
  ASSERT_TRUE(await(ledger_->claim_for_post(other, 0, {1, 2})));
  auto empty = await(ledger_->claim_for_post(other, 1, {2, 1}));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->outcome, claim_outcome::claimed);
  EXPECT_TRUE(empty->ids.empty());
  EXPECT_EQ(empty->duplicates, (ids{1, 2}));
  EXPECT_EQ(state_of(other, 1).state, batch_state::pending);
}

TEST_F(batch_ledger_test, concurrent_claims_of_overlapping_ids_own_each_id_once) {
  for (int round = 0; round < 10; ++round) {
    const auto id = started_task(3);
    const std::vector<ids> candidates{{1, 2, 3, 4, 5, 6}, {6, 5, 4, 7, 8}, {2, 4, 6, 8, 9}};
    net::io_context ioc;
    std::vector<std::future<result<claim_result>>> done;
    for (int b = 0; b < 3; ++b)
      done.push_back(
          net::co_spawn(ioc, ledger_->claim_for_post(id, b, candidates[b]), net::use_future));
    ioc.run();
    std::multiset<std::int64_t> owned;
    for (int b = 0; b < 3; ++b) {
      auto r = done[b].get();
      ASSERT_TRUE(r) << r.error().message();
      owned.insert(r->ids.begin(), r->ids.end());
      EXPECT_EQ(r->ids.size() + r->duplicates.size(),
                std::set<std::int64_t>(candidates[b].begin(), candidates[b].end()).size());
    }
    EXPECT_EQ(owned, (std::multiset<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
}

TEST_F(batch_ledger_test, concurrent_finish_of_the_last_two_batches_finalizes_once) {
  for (int round = 0; round < 10; ++round) {
    const auto id = started_task(2);
    net::io_context ioc;
    auto a = net::co_spawn(ioc, ledger_->finish_batch(id, 0, posted(4)), net::use_future);
    auto b = net::co_spawn(ioc, ledger_->finish_batch(id, 1, posted(6)), net::use_future);
    ioc.run();
    auto ra = a.get();
    auto rb = b.get();
    ASSERT_TRUE(ra && rb);
    EXPECT_TRUE(ra->applied && rb->applied);
    EXPECT_EQ((ra->finalized ? 1 : 0) + (rb->finalized ? 1 : 0), 1);
    const task t = task_of(id);
    EXPECT_EQ(t.status, task_status::succeeded);
    EXPECT_EQ(t.batches_done, 2);
    EXPECT_EQ(t.counters.posted, 10);
    EXPECT_EQ(t.counters.retries, 2);
  }
}

TEST_F(batch_ledger_test, finishes_called_at_once_are_each_recorded_once_and_finalize_once) {
  // Twelve finishes of one task at once, on two threads, with a duplicate of batch 3 (a
  // redelivered job): they are committed in groups, and each group must give every call the
  // answer a transaction of its own would.
  const auto id = started_task(11);
  net::io_context ioc;
  std::vector<std::future<result<finish_report>>> done;
  for (int b = 0; b < 11; ++b)
    done.push_back(net::co_spawn(ioc, ledger_->finish_batch(id, b, posted(b)), net::use_future));
  done.push_back(net::co_spawn(ioc, ledger_->finish_batch(id, 3, posted(3)), net::use_future));
  std::thread second([&] { ioc.run(); });
  ioc.run();
  second.join();
  int applied = 0, finalized = 0;
  for (auto& f : done) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->state, batch_state::posted);
    applied += r->applied ? 1 : 0;
    finalized += r->finalized ? 1 : 0;
  }
  EXPECT_EQ(applied, 11);
  EXPECT_EQ(finalized, 1);
  const task t = task_of(id);
  EXPECT_EQ(t.status, task_status::succeeded);
  EXPECT_EQ(t.batches_done, 11);
  EXPECT_EQ(t.counters.posted, 55);  // 0 + 1 + ... + 10, batch 3 once
  EXPECT_EQ(t.counters.pages, 110);
  for (int b = 0; b < 11; ++b)
    EXPECT_EQ(state_of(id, b).posted_count, b);
}

TEST_F(batch_ledger_test, a_finish_the_database_refuses_fails_alone_not_with_its_group) {
  // Six finishes at once; batch 2's rejected record is not valid UTF-8, which Postgres refuses.
  // Committed together, that would fail every finish of its group: only batch 2 may fail.
  const auto id = started_task(6);
  net::io_context ioc;
  std::vector<std::future<result<finish_report>>> done;
  for (int b = 0; b < 6; ++b) {
    auto outcome = posted(b);
    if (b == 2)
      outcome.rejected = {{20, "bad bytes", std::string("{\"name\":\"\xff\xfe\"}")}};
    done.push_back(
        net::co_spawn(ioc, ledger_->finish_batch(id, b, std::move(outcome)), net::use_future));
  }
  ioc.run();
  for (int b = 0; b < 6; ++b) {
    auto r = done[static_cast<std::size_t>(b)].get();
    if (b == 2) {
      ASSERT_FALSE(r) << "Postgres took a record that is not UTF-8";
      EXPECT_EQ(r.error(), db_errc::query_failed) << r.error().message();
    } else {
      ASSERT_TRUE(r) << "batch " << b << ": " << r.error().message();
      EXPECT_TRUE(r->applied) << "batch " << b;
    }
  }
  EXPECT_EQ(task_of(id).batches_done, 5);
  EXPECT_EQ(state_of(id, 2).state, batch_state::pending);
}

TEST_F(batch_ledger_test, a_failed_batch_fails_the_task_with_reasons) {
  const auto id = started_task(2);
  ASSERT_TRUE(await(ledger_->finish_batch(id, 0, posted(2))));
  batch_result failed;
  failed.outcome = batch_outcome::failed;
  failed.error = "page 13: retries exhausted";
  failed.rejected = {{17, "missing name", R"({"id":17})"}, {std::nullopt, "not JSON", "{"}};
  failed.counts.rejected = 2;
  auto r = await(ledger_->finish_batch(id, 1, failed));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->finalized);
  EXPECT_EQ(r->status, task_status::failed);
  const task t = task_of(id);
  EXPECT_EQ(t.batches_failed, 1);
  EXPECT_EQ(t.counters.rejected, 2);
  ASSERT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(t.errors[0].at("reason"), "page 13: retries exhausted");
  EXPECT_EQ(t.errors[0].at("batch"), 1);
  EXPECT_EQ(state_of(id, 1).error, "page 13: retries exhausted");
  auto rows = await(db_->run([&](pqxx::work& tx) {
    const auto row = tx.exec_params1(
        "SELECT count(*), count(animal_id) FROM rejected_records WHERE task_id = $1", id);
    return std::tuple{row[0].as<int>(), row[1].as<int>()};
  }));
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, (std::tuple{2, 1}));
  auto claim = await(ledger_->claim_for_post(id, 1, {1}));
  EXPECT_EQ(claim->outcome, claim_outcome::already_failed);
}

TEST_F(batch_ledger_test, posted_in_doubt_is_counted_and_the_task_can_succeed) {
  const auto id = started_task(1);
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 0, {1, 2})));
  ASSERT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}))->outcome, claim_outcome::in_doubt);
  batch_result r = posted(2);
  r.outcome = batch_outcome::posted_in_doubt;
  auto done = await(ledger_->finish_batch(id, 0, r));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, task_status::succeeded);
  EXPECT_TRUE(state_of(id, 0).in_doubt);
  EXPECT_EQ(task_of(id).counters.in_doubt, 1);
}

TEST_F(batch_ledger_test, list_in_doubt_names_posting_and_posted_in_doubt_batches_with_ids) {
  const auto id = started_task(4);
  EXPECT_TRUE(await(ledger_->list_in_doubt(id))->empty());
  // 0: posted normally; 1: posting (a POST on the wire); 2: posted in doubt; 3: pending.
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 0, {1, 2})));
  ASSERT_TRUE(await(ledger_->finish_batch(id, 0, posted(2))));
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 1, {13, 11, 12})));
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 2, {21, 22})));
  batch_result r = posted(2);
  r.outcome = batch_outcome::posted_in_doubt;
  ASSERT_TRUE(await(ledger_->finish_batch(id, 2, r)));

  auto doubtful = await(ledger_->list_in_doubt(id));
  ASSERT_TRUE(doubtful) << doubtful.error().message();
  ASSERT_EQ(doubtful->size(), 2u);
  EXPECT_EQ(doubtful->at(0).batch_no, 1);
  EXPECT_EQ(doubtful->at(0).state, batch_state::posting);
  EXPECT_EQ(doubtful->at(0).ids, (ids{11, 12, 13}));
  EXPECT_EQ(doubtful->at(1).batch_no, 2);
  EXPECT_EQ(doubtful->at(1).state, batch_state::posted);
  EXPECT_EQ(doubtful->at(1).ids, (ids{21, 22}));
  EXPECT_EQ(await(ledger_->list_in_doubt("not-a-uuid")).error(),
            make_error_code(errc::invalid_argument));
}

TEST_F(batch_ledger_test, a_duplicate_job_leaves_another_jobs_claim_alone) {
  const auto id = started_task(1);
  ASSERT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, batch_claimant{"job-a", 1}))->outcome,
            claim_outcome::claimed);
  // A second job for the same batch (a redelivered plan enqueued it again) finds job-a's claim:
  // job-a may be posting right now, so this is not in doubt.
  EXPECT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, batch_claimant{"job-b", 1}))->outcome,
            claim_outcome::claimed_elsewhere);
  // job-a's own redelivery is in doubt.
  auto doubt = await(ledger_->claim_for_post(id, 0, {1, 2}, batch_claimant{"job-a", 1}));
  EXPECT_EQ(doubt->outcome, claim_outcome::in_doubt);
  EXPECT_EQ(doubt->ids, (ids{1, 2}));
  // After home proved the POST was not taken, any job may claim again, and then owns it.
  ASSERT_TRUE(*await(ledger_->back_to_pending(id, 0)));
  EXPECT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, batch_claimant{"job-b", 1}))->outcome,
            claim_outcome::claimed);
  EXPECT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, batch_claimant{"job-a", 1}))->outcome,
            claim_outcome::claimed_elsewhere);
}

TEST_F(batch_ledger_test, claims_on_a_cancelled_task) {
  const auto id = started_task(3);
  ASSERT_EQ(await(ledger_->claim_for_post(id, 0, {1}))->outcome, claim_outcome::claimed);
  ASSERT_EQ(*await(tasks_->cancel_task(id)), task_status::cancelled);
  EXPECT_EQ(state_of(id, 0).state, batch_state::posting);  // its POST may be on the wire
  EXPECT_EQ(state_of(id, 1).state, batch_state::skipped);

  EXPECT_EQ(await(ledger_->claim_for_post(id, 1, {2}))->outcome, claim_outcome::cancelled);
  EXPECT_EQ(await(ledger_->claim_for_post(id, 0, {1}))->outcome, claim_outcome::in_doubt);

  // The in-flight batch still records its outcome; the task stays cancelled.
  auto done = await(ledger_->finish_batch(id, 0, posted(1)));
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->applied);
  EXPECT_FALSE(done->finalized);
  EXPECT_EQ(done->status, task_status::cancelled);
  EXPECT_EQ(task_of(id).counters.posted, 1);
  auto skipped = await(ledger_->finish_batch(id, 2, posted(5)));
  ASSERT_TRUE(skipped);
  EXPECT_FALSE(skipped->applied);
  EXPECT_EQ(skipped->state, batch_state::skipped);
}

TEST_F(batch_ledger_test, a_newer_run_of_a_job_fences_out_the_older_one) {
  const auto id = started_task(1);
  const batch_claimant first{"job-a", 1}, second{"job-a", 2};
  ASSERT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, first))->outcome, claim_outcome::claimed);
  // The job was handed out again (its lease lapsed) while the first run still posts: the
  // second run finds the claim in doubt and takes it over.
  auto doubt = await(ledger_->claim_for_post(id, 0, {1, 2}, second));
  ASSERT_TRUE(doubt);
  EXPECT_EQ(doubt->outcome, claim_outcome::in_doubt);
  // From then on the first run is stale: it may neither release the batch, nor confirm its
  // claim before a retry, nor claim again.
  EXPECT_FALSE(*await(ledger_->back_to_pending(id, 0, first)));
  EXPECT_EQ(state_of(id, 0).state, batch_state::posting);
  EXPECT_FALSE(*await(ledger_->confirm_claim(id, 0, first)));
  EXPECT_TRUE(*await(ledger_->confirm_claim(id, 0, second)));
  EXPECT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, first))->outcome, claim_outcome::stale);
  // The newer run may; and a pending batch it released is still fenced against the older one.
  EXPECT_TRUE(*await(ledger_->back_to_pending(id, 0, second)));
  EXPECT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, first))->outcome, claim_outcome::stale);
  EXPECT_EQ(state_of(id, 0).state, batch_state::pending);
  auto again = await(ledger_->claim_for_post(id, 0, {1, 2}, second));
  EXPECT_EQ(again->outcome, claim_outcome::claimed);
  EXPECT_EQ(again->ids, (ids{1, 2}));
  // A 2xx the older run heard is still the truth: recording it is never fenced.
  auto done = await(ledger_->finish_batch(id, 0, posted(2)));
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->applied);
  EXPECT_FALSE(*await(ledger_->back_to_pending(id, 0, second)));
}

TEST_F(batch_ledger_test, an_in_doubt_claim_says_how_old_it_is) {
  const auto id = started_task(1);
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 0, {1}, {"job-a", 1})));
  ASSERT_TRUE(await(db_->run([&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE batches SET updated_at = now() - interval '42 seconds' "
        "WHERE task_id = $1",
        id);
  })));
  auto doubt = await(ledger_->claim_for_post(id, 0, {1}, {"job-a", 2}));
  ASSERT_TRUE(doubt);
  EXPECT_EQ(doubt->outcome, claim_outcome::in_doubt);
  EXPECT_GE(doubt->claim_age, std::chrono::seconds{42});
  EXPECT_LT(doubt->claim_age, std::chrono::seconds{60});
  // Taking the claim over keeps its age: it is about the older run's POST.
  EXPECT_GE(await(ledger_->claim_for_post(id, 0, {1}, {"job-a", 2}))->claim_age,
            std::chrono::seconds{42});
}

TEST_F(batch_ledger_test, a_batch_that_fails_in_posting_keeps_its_doubt_unless_home_refused_it) {
  const auto id = started_task(3);
  // 0: dead-lettered (or a resend refused) while posting: an earlier POST may have landed.
  // 1: home refused this very claim (a 4xx): nothing was taken. 2: failed before any claim.
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 0, {1, 2})));
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 1, {11, 12})));
  batch_result dead{batch_outcome::failed, {}, {}, "batch job dead-lettered"};
  batch_result refused{batch_outcome::failed, {}, {}, "home answered 422", true};
  ASSERT_TRUE(await(ledger_->finish_batch(id, 0, dead)));
  ASSERT_TRUE(await(ledger_->finish_batch(id, 1, refused)));
  ASSERT_TRUE(await(ledger_->finish_batch(id, 2, dead)));
  EXPECT_TRUE(state_of(id, 0).in_doubt);
  EXPECT_FALSE(state_of(id, 1).in_doubt);
  EXPECT_FALSE(state_of(id, 2).in_doubt);
  const task t = task_of(id);
  EXPECT_EQ(t.status, task_status::failed);
  EXPECT_EQ(t.counters.in_doubt, 1);
  auto doubtful = await(ledger_->list_in_doubt(id));
  ASSERT_TRUE(doubtful);
  ASSERT_EQ(doubtful->size(), 1u);
  EXPECT_EQ(doubtful->at(0).batch_no, 0);
  EXPECT_EQ(doubtful->at(0).state, batch_state::failed);
  EXPECT_EQ(doubtful->at(0).ids, (ids{1, 2}));
}

TEST_F(batch_ledger_test, duplicates_and_undumped_batches_are_recorded) {
  const auto id = started_task(2);
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 0, {1, 2})));
  batch_result r = posted(2);
  r.counts.duplicates = 3;
  r.audit_error = "audit dump failed: No space left on device";
  ASSERT_TRUE(await(ledger_->finish_batch(id, 0, r)));
  ASSERT_TRUE(await(ledger_->finish_batch(id, 1, posted(0))));
  EXPECT_EQ(task_of(id).counters.duplicates, 3);
  auto undumped = await(ledger_->list_undumped(id));
  ASSERT_TRUE(undumped) << undumped.error().message();
  ASSERT_EQ(undumped->size(), 1u);
  EXPECT_EQ(undumped->at(0).batch_no, 0);
  EXPECT_EQ(undumped->at(0).reason, "audit dump failed: No space left on device");
  EXPECT_EQ(undumped->at(0).ids, (ids{1, 2}));
}

TEST_F(batch_ledger_test, a_late_2xx_clears_the_doubt_a_newer_run_recorded) {
  const auto id = started_task(1);
  ASSERT_TRUE(await(ledger_->claim_for_post(id, 0, {1, 2}, {"job-a", 1})));
  // A newer run found the batch posting and recorded it in doubt (ETL_IN_DOUBT=skip)...
  ASSERT_EQ(await(ledger_->claim_for_post(id, 0, {1, 2}, {"job-a", 2}))->outcome,
            claim_outcome::in_doubt);
  batch_result doubt = posted(2);
  doubt.outcome = batch_outcome::posted_in_doubt;
  ASSERT_TRUE(await(ledger_->finish_batch(id, 0, doubt)));
  EXPECT_EQ(task_of(id).counters.in_doubt, 1);
  // ... then the older run, alive after all, heard home's 2xx: the batch is known posted.
  auto late = await(ledger_->finish_batch(id, 0, posted(2)));
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->applied);
  EXPECT_TRUE(late->doubt_cleared);
  EXPECT_FALSE(state_of(id, 0).in_doubt);
  const task t = task_of(id);
  EXPECT_EQ(t.counters.in_doubt, 0);
  EXPECT_EQ(t.counters.posted, 2);  // counted once
  EXPECT_EQ(t.status, task_status::succeeded);
  EXPECT_TRUE(await(ledger_->list_in_doubt(id))->empty());
}

}  // namespace
}  // namespace etl::test
