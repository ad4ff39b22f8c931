// The whole pipeline as people run it: real Redis and Postgres, animals-sim in verify mode,
// etl-server and etl-worker as processes. Each test triggers a task over HTTP and checks the
// outcome through the simulator's own report and etl-verify, never through the service's word
// alone.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;

TEST(pipeline, a_full_task_posts_every_animal_exactly_once) {
  // 2% chaos with pauses shortened to 1-3 s for test time.
  auto stack = make_service_stack({"--verify", "--seed", "21", "--pages", "80", "--chaos-percent",
                                   "2", "--pause-min", "1", "--pause-max", "3"});
  const auto id = stack.trigger(true);
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 800);
  EXPECT_EQ(num(t.at("batches").as_object(), "done"), 8);
  const auto report = stack.report();
  expect_exactly_once(report, 800);
  std::printf("simulator report: %s\n", json::serialize(report).c_str());
  EXPECT_EQ(stack.verify(id), 0);
}

TEST(pipeline, a_worker_killed_mid_task_loses_nothing) {
  auto stack = make_service_stack({"--verify", "--seed", "22", "--pages", "150", "--chaos-percent",
                                   "2", "--pause-min", "1", "--pause-max", "2"});
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s, [](const json::object& t) {
    return num(t.at("batches").as_object(), "done") >= 2;
  });
  auto children = children_of(stack.worker().pid());
  ASSERT_FALSE(children.empty());
  ASSERT_EQ(::kill(children.front(), SIGKILL), 0);
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto report = stack.report();
  std::printf("simulator report after SIGKILL of worker %d: %s\n", children.front(),
              json::serialize(report).c_str());
  // A batch whose POST was on the wire when the worker died is in doubt: counted, never hidden,
  // never sent twice. If the kill came between its `posting` commit and the write, home never
  // got it and its ids are missing.
  const auto in_doubt = num(t.at("counts").as_object(), "in_doubt");
  std::printf("in doubt: %lld\n", static_cast<long long>(in_doubt));
  if (in_doubt == 0) {
    expect_exactly_once(report, 1500);
  } else {
    EXPECT_EQ(num(report, "duplicates"), 0) << json::serialize(report);
    EXPECT_LE(num(report, "missing"), 100 * in_doubt) << json::serialize(report);
  }
  // In doubt, etl-verify proves what the dumps show: exit 0 when the dead worker had written
  // the batch's dump after home's 2xx, 3 when it had not.
  const int verdict = stack.verify(id);
  if (in_doubt == 0)
    EXPECT_EQ(verdict, 0);
  else
    EXPECT_TRUE(verdict == 0 || verdict == 3) << verdict;
}

TEST(pipeline, a_job_that_keeps_failing_is_dead_lettered_with_its_reason) {
  // A source nobody listens on: the plan job fails on every delivery.
  auto stack = make_service_stack(
      {"--pages", "5"},
      {"ETL_SOURCE_URL=http://127.0.0.1:9", "ETL_RETRY_ATTEMPTS=2", "ETL_MAX_DELIVERIES=3"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "failed");
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("dead-lettered"), std::string::npos) << errors;
  // ... and why it kept failing: the plan job's last error names the unreachable source.
  EXPECT_NE(errors.find("last error: "), std::string::npos) << errors;
  EXPECT_NE(errors.find("GET http://127.0.0.1:9/animals/v1/animals?page=1"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("Connection refused"), std::string::npos) << errors;
  std::printf("task errors: %s\n", errors.c_str());
}

TEST(pipeline, a_redis_restart_mid_task_does_not_stop_it) {
  redis_server_options aof;
  aof.appendonly = true;
  // Long enough (2,000 animals, pauses of 2-3 s) that the task is still running when Redis goes.
  auto stack = make_service_stack({"--verify", "--seed", "23", "--pages", "200", "--chaos-percent",
                                   "4", "--pause-min", "2", "--pause-max", "3"},
                                  {}, aof);
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s,
                  [](const json::object& t) { return t.at("status").as_string() == "running"; });
  ASSERT_EQ(stack.task(id).at("status").as_string(), "running");
  stack.redis().restart();
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  expect_exactly_once(stack.report(), 2000);
  EXPECT_EQ(stack.verify(id), 0);
}

TEST(pipeline, invalid_records_are_rejected_with_reasons_and_the_rest_posted) {
  auto stack = make_service_stack({"--verify", "--seed", "24", "--pages", "30", "--chaos-percent",
                                   "0", "--fault-wrong-types", "3", "--fault-missing-fields", "3"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto& counts = t.at("counts").as_object();
  EXPECT_GT(num(counts, "rejected"), 0);
  const auto report = stack.report();
  // Every animal is either posted once or rejected with a reason; nothing is posted twice.
  EXPECT_EQ(num(counts, "posted") + num(counts, "rejected"), 300) << json::serialize(t);
  EXPECT_EQ(num(report, "received"), num(counts, "posted"));
  EXPECT_EQ(num(report, "duplicates"), 0);
  const auto& mismatched = report.at("mismatched").as_object();
  for (auto field : {"name", "friends", "born_at"})
    EXPECT_EQ(num(mismatched, field), 0) << field;
}

TEST(pipeline, cancel_stops_a_task_and_keeps_what_was_posted) {
  // 3,000 animals with long pauses: far from done when the cancel arrives.
  auto stack = make_service_stack({"--verify", "--seed", "25", "--pages", "300", "--chaos-percent",
                                   "10", "--pause-min", "4", "--pause-max", "6"});
  const auto id = stack.trigger(false);
  stack.wait_task(id, 120s, [](const json::object& t) {
    return num(t.at("batches").as_object(), "done") >= 1;
  });
  auto r = http_post(stack.port(), "/extractor/tasks/" + id + "/cancel", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body).at("status").as_string(), "cancelled") << r->body;
  // Batches in flight still record what they posted; nothing else is posted.
  const auto t = stack.wait_task(id, 60s, [&](const json::object& now) {
    return num(now.at("counts").as_object(), "posted") == num(stack.report(), "received");
  });
  EXPECT_EQ(t.at("status").as_string(), "cancelled");
  const auto report = stack.report();
  EXPECT_LT(num(report, "received"), 3000) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 0);
  auto unknown =
      http_post(stack.port(), "/extractor/tasks/00000000-0000-4000-8000-000000000000/cancel", "");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST(pipeline, an_id_the_listing_repeats_is_posted_once) {
  // 30% of the pages repeat the first id of the page before, across batches and within them.
  auto stack = make_service_stack(
      {"--verify", "--seed", "26", "--pages", "60", "--chaos-percent", "0", "--repeat-ids", "30"});
  const auto id = stack.trigger(true);
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto report = stack.report();
  const auto listed = num(report, "listed");
  ASSERT_LT(listed, 600) << "the fault repeated ids: " << json::serialize(report);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), listed);
  // Every entry of the 60 pages is accounted for: posted once, or counted as a repeat.
  EXPECT_EQ(
      num(t.at("counts").as_object(), "posted") + num(t.at("counts").as_object(), "duplicates"),
      600)
      << json::serialize(t);
  EXPECT_EQ(num(report, "received"), listed) << json::serialize(report);
  EXPECT_EQ(num(report, "missing"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "posts_failed"), 0) << json::serialize(report);
  EXPECT_EQ(stack.verify(id), 0);
}

TEST(pipeline, a_worker_killed_with_its_post_on_the_wire_leaves_the_batch_in_doubt_and_says_so) {
  // One worker process running one job at a time: the two batches go one after the other, and
  // home holds every POST for 2 s, long enough to kill the worker while one is on the wire.
  auto stack = make_service_stack({"--verify", "--seed", "27", "--pages", "20", "--chaos-percent",
                                   "0", "--post-delay-ms", "2000"},
                                  {"ETL_WORKER_PROCESSES=1", "ETL_JOBS=1"});
  const auto id = stack.trigger(true);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (num(stack.report(), "posts_admitted") == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);  // polling the simulator, bounded by the deadline
  ASSERT_EQ(num(stack.report(), "posts_admitted"), 1);
  auto children = children_of(stack.worker().pid());
  ASSERT_EQ(children.size(), 1U);
  ASSERT_EQ(::kill(children.front(), SIGKILL), 0);

  // The restarted worker finds the batch in posting: ETL_IN_DOUBT=skip records it as posted in
  // doubt, never sends it again, and posts the other batch.
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "in_doubt"), 1) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 200);
  // Home took the first POST after its delay: every id once, none twice.
  stack.wait_task(id, 30s, [&](const json::object&) { return num(stack.report(), "posts") == 2; });
  expect_exactly_once(stack.report(), 200);

  // etl-verify cannot prove the in-doubt batch (it has no dump): exit 3, its ids listed apart.
  auto verify = stack.start("etl-verify", {"--task", id, "--json"});
  ASSERT_TRUE(verify.read_until_eof(60s));
  EXPECT_EQ(verify.wait(10s), 3);
  const auto v = json::parse(verify.output()).as_object();
  EXPECT_EQ(num(v, "missing"), 0) << verify.output();
  EXPECT_EQ(num(v, "duplicated"), 0) << verify.output();
  EXPECT_EQ(num(v, "unproven"), 100) << verify.output();
  EXPECT_EQ(v.at("in_doubt_batches").as_array().size(), 1U) << verify.output();
}

// Batches of the task that were claimed for a POST and put back to pending since.
std::int64_t released_batches(const service_stack& stack, const std::string& task_id) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  const auto rows = tx.exec_params(
      "SELECT count(*) FROM batches WHERE task_id = $1 AND state = 'pending' AND attempts > 0",
      task_id);
  return rows[0][0].as<std::int64_t>();
}

TEST(pipeline, a_worker_killed_while_a_turned_away_post_waits_to_retry_leaves_no_doubt) {
  // Home turns the first POST away (503, Retry-After: 2): the worker puts the batch back to
  // pending before it waits, and is killed while it waits. Nothing may be in doubt: the
  // redelivered batch is claimed and posted like a fresh one.
  auto stack = make_service_stack(
      {"--verify", "--seed", "28", "--pages", "20", "--chaos-percent", "0", "--refuse-posts", "1"},
      {"ETL_WORKER_PROCESSES=1", "ETL_JOBS=1"});
  const auto id = stack.trigger(true);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (released_batches(stack, id) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);  // polling the ledger, bounded by the deadline
  ASSERT_EQ(released_batches(stack, id), 1) << "the turned-away batch never went back to pending";
  ASSERT_EQ(num(stack.report(), "posts_refused"), 1);
  auto children = children_of(stack.worker().pid());
  ASSERT_EQ(children.size(), 1U);
  ASSERT_EQ(::kill(children.front(), SIGKILL), 0);

  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "in_doubt"), 0) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 200);
  expect_exactly_once(stack.report(), 200);
  EXPECT_EQ(stack.verify(id), 0);
}

}  // namespace
}  // namespace etl::test
