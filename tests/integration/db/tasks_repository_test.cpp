#include <set>

#include <boost/json/parse.hpp>

#include "db_test_env.hpp"
#include "etl/core/error.hpp"
#include "etl/db/batch_ledger.hpp"
#include "etl/db/tasks_repository.hpp"

namespace etl::test {
namespace {

class tasks_repository_test : public db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    tasks_ = std::make_unique<tasks_repository>(*db_);
  }
  task create(bool audit = false) {
    auto r =
        await(tasks_->create_task(audit, std::nullopt, json::parse(R"({"audit_mode":false})")));
    EXPECT_TRUE(r) << r.error().message();
    return r->value;
  }
  std::vector<batch_plan> plan(int batches) {
    std::vector<batch_plan> p;
    for (int i = 0; i < batches; ++i)
      p.push_back({i, i * 10 + 1, i * 10 + 10});
    return p;
  }
  std::unique_ptr<tasks_repository> tasks_;
};

TEST_F(tasks_repository_test, create_then_get) {
  auto created = await(tasks_->create_task(true, std::nullopt, json::parse(R"({"x":1})")));
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_FALSE(created->existed);
  const task& t = created->value;
  EXPECT_TRUE(is_uuid(t.id));
  EXPECT_EQ(t.status, task_status::queued);
  EXPECT_TRUE(t.audit_mode);
  EXPECT_EQ(t.request, json::parse(R"({"x":1})"));
  EXPECT_FALSE(t.started_at);
  EXPECT_TRUE(t.errors.empty());

  auto got = await(tasks_->get_task(t.id));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->id, t.id);
  EXPECT_EQ((*got)->created_at, t.created_at);

  auto missing = await(tasks_->get_task("00000000-0000-0000-0000-000000000000"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto bad = await(tasks_->get_task("not-a-uuid"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), errc::invalid_argument);
  EXPECT_EQ(await(tasks_->get_status("00000000-0000-0000-0000-000000000000")).error(),
            db_errc::not_found);
}

TEST_F(tasks_repository_test, idempotency_key_returns_the_same_task) {
  auto first = await(tasks_->create_task(false, "key-1", json::object{}));
  auto second = await(tasks_->create_task(true, "key-1", json::object{}));
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(first->existed);
  EXPECT_TRUE(second->existed);
  EXPECT_EQ(first->value.id, second->value.id);
  EXPECT_FALSE(second->value.audit_mode);  // the existing task, unchanged

  // Concurrent requests with one new key create one task.
  net::io_context ioc;
  std::vector<std::future<result<created_task>>> done;
  for (int i = 0; i < 6; ++i)
    done.push_back(
        net::co_spawn(ioc, tasks_->create_task(false, "key-2", json::object{}), net::use_future));
  ioc.run();
  std::set<std::string> ids;
  int fresh = 0;
  for (auto& f : done) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message();
    ids.insert(r->value.id);
    fresh += r->existed ? 0 : 1;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(fresh, 1);

  EXPECT_EQ(await(tasks_->create_task(false, std::string(), json::object{})).error(),
            errc::invalid_argument);
}

TEST_F(tasks_repository_test, idempotency_key_with_another_request_is_reported) {
  const auto audit = json::parse(R"({"audit_mode":true})");
  auto first = await(tasks_->create_task(true, "key-3", audit));
  auto same = await(tasks_->create_task(true, "key-3", json::parse(R"({"audit_mode":true})")));
  auto other = await(tasks_->create_task(false, "key-3", json::parse(R"({"audit_mode":false})")));
  ASSERT_TRUE(first && same && other);
  EXPECT_TRUE(same->existed);
  EXPECT_TRUE(same->same_request);
  EXPECT_TRUE(other->existed);
  EXPECT_FALSE(other->same_request);
  EXPECT_EQ(other->value.id, first->value.id);
  EXPECT_TRUE(other->value.audit_mode);  // the existing task, unchanged
}

TEST_F(tasks_repository_test, idempotency_key_older_than_the_retention_starts_a_new_task) {
  auto first = await(tasks_->create_task(false, "key-4", json::object{}));
  ASSERT_TRUE(first);
  // Age the task instead of waiting: the key was used 25 hours ago.
  auto aged = db_->run_sync<void>([&](pqxx::work& tx) {
    tx.exec_params("UPDATE tasks SET created_at = now() - interval '25 hours' WHERE id = $1",
                   first->value.id);
  });
  ASSERT_TRUE(aged) << aged.error().message();
  auto within = await(tasks_->create_task(false, "key-4", json::object{}, std::chrono::hours(26)));
  ASSERT_TRUE(within);
  EXPECT_TRUE(within->existed);
  EXPECT_EQ(within->value.id, first->value.id);

  auto fresh = await(tasks_->create_task(true, "key-4", json::parse(R"({"audit_mode":true})")));
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->existed) << "a key older than 24 h starts a new task";
  EXPECT_NE(fresh->value.id, first->value.id);
  // From now on the key names the new task.
  auto again = await(tasks_->create_task(true, "key-4", json::parse(R"({"audit_mode":true})")));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->existed);
  EXPECT_EQ(again->value.id, fresh->value.id);
  EXPECT_EQ(await(tasks_->create_task(false, "key-5", json::object{}, std::chrono::milliseconds(0)))
                .error(),
            errc::invalid_argument);
}

TEST_F(tasks_repository_test, a_snapshot_is_settled_once_nothing_can_change_the_task) {
  const auto queued = create();
  auto s = await(tasks_->get_task_snapshot(queued.id));
  ASSERT_TRUE(s && *s) << (s ? "no task" : s.error().message());
  EXPECT_FALSE((*s)->settled);
  ASSERT_TRUE(await(tasks_->cancel_task(queued.id)));
  s = await(tasks_->get_task_snapshot(queued.id));
  ASSERT_TRUE(s && *s);
  EXPECT_TRUE((*s)->settled);
  EXPECT_EQ((*s)->value.status, task_status::cancelled);

  // Cancelled with a batch still posting: its job may still add counts.
  const auto running = create();
  ASSERT_TRUE(await(tasks_->start_task(running.id, 20, plan(2))));
  batch_ledger ledger(*db_);
  ASSERT_TRUE(await(ledger.claim_for_post(running.id, 0, {1, 2, 3})));
  ASSERT_TRUE(await(tasks_->cancel_task(running.id)));
  s = await(tasks_->get_task_snapshot(running.id));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->value.status, task_status::cancelled);
  EXPECT_FALSE((*s)->settled);

  auto missing = await(tasks_->get_task_snapshot("00000000-0000-0000-0000-000000000000"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  EXPECT_EQ(await(tasks_->get_task_snapshot("nope")).error(), errc::invalid_argument);
}

TEST_F(tasks_repository_test, list_is_newest_first_with_a_cursor) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i)
    created.push_back(create().id);
  std::vector<std::string> listed;
  std::optional<task_cursor> cursor;
  int pages = 0;
  do {
    auto page = await(tasks_->list_tasks(2, cursor));
    ASSERT_TRUE(page) << page.error().message();
    for (const auto& t : page->tasks)
      listed.push_back(t.id);
    cursor = page->next;
    ASSERT_LT(++pages, 10);
  } while (cursor);
  EXPECT_EQ(pages, 3);
  std::reverse(created.begin(), created.end());
  EXPECT_EQ(listed, created);
  EXPECT_EQ(await(tasks_->list_tasks(0)).error(), errc::invalid_argument);
}

TEST_F(tasks_repository_test, start_task_is_idempotent) {
  const auto t = create();
  auto started = await(tasks_->start_task(t.id, 30, plan(3)));
  ASSERT_TRUE(started) << started.error().message();
  EXPECT_EQ(started->status, task_status::running);
  ASSERT_EQ(started->batches.size(), 3u);
  EXPECT_EQ(started->batches[2].first_page, 21);
  EXPECT_EQ(started->batches[2].state, batch_state::pending);

  // A redelivered plan job: the first plan stands.
  auto again = await(tasks_->start_task(t.id, 30, plan(2)));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, task_status::running);
  EXPECT_EQ(again->batches.size(), 3u);

  auto got = await(tasks_->get_task(t.id));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->total_pages, 30);
  EXPECT_EQ((*got)->batches_total, 3);
  EXPECT_TRUE((*got)->started_at);

  EXPECT_EQ(await(tasks_->start_task(t.id, 5, plan(3))).error(), errc::invalid_argument);
  EXPECT_EQ(await(tasks_->start_task("00000000-0000-0000-0000-000000000000", 30, plan(1))).error(),
            db_errc::not_found);

  const auto empty = create();
  auto nothing = await(tasks_->start_task(empty.id, 0, {}));
  ASSERT_TRUE(nothing);
  EXPECT_EQ(nothing->status, task_status::succeeded);
}

TEST_F(tasks_repository_test, cancel_skips_pending_batches_and_is_final) {
  const auto t = create();
  ASSERT_TRUE(await(tasks_->start_task(t.id, 20, plan(2))));
  auto cancelled = await(tasks_->cancel_task(t.id));
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(*cancelled, task_status::cancelled);
  EXPECT_EQ(*await(tasks_->cancel_task(t.id)), task_status::cancelled);
  auto batches = await(tasks_->list_batches(t.id));
  ASSERT_TRUE(batches);
  for (const auto& b : *batches)
    EXPECT_EQ(b.state, batch_state::skipped);
  auto got = await(tasks_->get_task(t.id));
  EXPECT_TRUE((*got)->finished_at);
  EXPECT_EQ(*await(tasks_->fail_task(t.id, "late")), task_status::cancelled);

  // A queued task cancelled before its plan job never starts.
  const auto q = create();
  EXPECT_EQ(*await(tasks_->cancel_task(q.id)), task_status::cancelled);
  auto start = await(tasks_->start_task(q.id, 10, plan(1)));
  ASSERT_TRUE(start);
  EXPECT_EQ(start->status, task_status::cancelled);
  EXPECT_TRUE(start->batches.empty());
  EXPECT_EQ(await(tasks_->cancel_task("00000000-0000-0000-0000-000000000000")).error(),
            db_errc::not_found);
}

TEST_F(tasks_repository_test, fail_task_records_the_reason_once) {
  const auto t = create();
  ASSERT_TRUE(await(tasks_->start_task(t.id, 10, plan(1))));
  EXPECT_EQ(*await(tasks_->fail_task(t.id, "plan job dead-lettered")), task_status::failed);
  EXPECT_EQ(*await(tasks_->fail_task(t.id, "plan job dead-lettered")), task_status::failed);
  auto got = await(tasks_->get_task(t.id));
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->errors.size(), 1u);
  EXPECT_EQ((*got)->errors[0].at("reason"), "plan job dead-lettered");
  EXPECT_TRUE((*got)->errors[0].at("batch").is_null());
  EXPECT_TRUE((*got)->finished_at);
  EXPECT_EQ((*await(tasks_->list_batches(t.id)))[0].state, batch_state::skipped);
}

TEST_F(tasks_repository_test, errors_keep_the_first_and_the_last_fifty) {
  const auto t = create();
  constexpr int n = 150;
  ASSERT_TRUE(await(tasks_->start_task(t.id, n * 10, plan(n))));
  batch_ledger ledger(*db_);
  for (int i = 0; i < n; ++i) {
    batch_result failed;
    failed.outcome = batch_outcome::failed;
    failed.error = "boom " + std::to_string(i);
    ASSERT_TRUE(await(ledger.finish_batch(t.id, i, failed)));
  }
  auto got = await(tasks_->get_task(t.id));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->status, task_status::failed);
  const auto& errors = (*got)->errors;
  ASSERT_EQ(errors.size(), 100u);
  EXPECT_EQ(errors[0].at("reason"), "boom 0");
  EXPECT_EQ(errors[49].at("reason"), "boom 49");
  EXPECT_EQ(errors[50].at("reason"), "boom 101");
  EXPECT_EQ(errors[98].at("reason"), "boom 149");
  // The summary of a big failure comes last and is never the one dropped.
  EXPECT_EQ(errors[99].at("reason"), "150 of 150 batches failed");
  EXPECT_EQ((*got)->batches_failed, n);
}

TEST_F(tasks_repository_test, a_second_plan_job_of_a_started_task_plans_nothing) {
  const auto t = create();
  auto first = await(tasks_->start_task(t.id, 30, plan(3), "1-0"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->batches.size(), 3u);
  // Its own redelivery gets the batches again, to enqueue the unfinished ones.
  auto redelivered = await(tasks_->start_task(t.id, 30, plan(3), "1-0"));
  ASSERT_TRUE(redelivered);
  EXPECT_FALSE(redelivered->planned_elsewhere);
  EXPECT_EQ(redelivered->batches.size(), 3u);
  // Another plan job of the same task (the outbox sweep raced its trigger) gets none.
  auto other = await(tasks_->start_task(t.id, 30, plan(3), "2-0"));
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->planned_elsewhere);
  EXPECT_TRUE(other->batches.empty());
}

TEST_F(tasks_repository_test, the_outbox_lists_old_queued_tasks_whose_plan_was_never_enqueued) {
  const auto marked = create();
  const auto unmarked = create();
  const auto started = create();
  const auto cancelled = create();
  ASSERT_TRUE(await(tasks_->mark_plan_enqueued(marked.id, "5-0")));
  ASSERT_TRUE(await(tasks_->start_task(started.id, 10, plan(1))));
  ASSERT_TRUE(await(tasks_->cancel_task(cancelled.id)));
  // Too young: a trigger may be enqueueing it right now.
  auto young = await(tasks_->unqueued_plans(std::chrono::minutes{1}, 10));
  ASSERT_TRUE(young) << young.error().message();
  EXPECT_TRUE(young->empty());
  ASSERT_TRUE(await(db_->run([&](pqxx::work& tx) {
    tx.exec("UPDATE tasks SET created_at = now() - interval '2 minutes'");
  })));
  auto found = await(tasks_->unqueued_plans(std::chrono::minutes{1}, 10));
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->at(0).task_id, unmarked.id);
  ASSERT_TRUE(await(tasks_->mark_plan_enqueued(unmarked.id, "6-0")));
  EXPECT_TRUE(await(tasks_->unqueued_plans(std::chrono::minutes{1}, 10))->empty());
}

}  // namespace
}  // namespace etl::test
