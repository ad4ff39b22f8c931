// The holes in "every id delivered once, or reported" that a careful read found, each proven
// closed against real processes: real Redis and Postgres, animals-sim in verify mode,
// etl-server and etl-worker. Each test checks the outcome through the simulator's own report and
// etl-verify, never through the service's word alone.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

// Polls `ready` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool eventually(std::chrono::seconds timeout, const std::function<bool()>& ready) {
  const auto deadline = steady::now() + timeout;
  while (!ready()) {
    if (steady::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);  // polling, bounded by the deadline
  }
  return true;
}

// The delivery count of the run whose claim the task's batch 0 holds (batches.claim_fence).
std::int64_t claim_fence(service_stack& stack, const std::string& task_id) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  const auto rows = tx.exec_params(
      "SELECT claim_fence FROM batches WHERE task_id = $1 AND batch_no = 0", task_id);
  return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
}

// etl-verify --json's verdict on the task: its exit code and its JSON.
std::pair<int, json::object> verify_json(service_stack& stack, const std::string& id) {
  auto verify = stack.start("etl-verify", {"--task", id, "--json"});
  EXPECT_TRUE(verify.read_until_eof(60s));
  const int code = verify.wait(10s).value_or(-1);
  return {code, json::parse(verify.output()).as_object()};
}

TEST(exactly_once, a_redirect_from_home_fails_the_batch_and_never_counts_as_posted) {
  // A home URL ending in "/" makes home answer 307 to the URL without it, as web frameworks do.
  service_stack stack(
      {.sim_args = {"--verify", "--seed", "41", "--pages", "20", "--chaos-percent", "0"},
       .start_worker = false});
  auto worker =
      stack.start("etl-worker", {"--home-url", stack.sim().base_url() + "/animals/v1/home/"});
  const auto id = stack.trigger(true);
  const auto t = stack.wait_finished(id, 120s);
  worker.stop(10s);
  std::printf("task: %s\n", json::serialize(t).c_str());
  EXPECT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 0) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "in_doubt"), 0) << json::serialize(t);
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("home answered 307"), std::string::npos) << errors;
  EXPECT_NE(errors.find("Location: /animals/v1/home"), std::string::npos) << errors;
  EXPECT_EQ(num(stack.report(), "received"), 0);
  // No dump was written for a batch home never took: etl-verify finds every id missing.
  auto [code, v] = verify_json(stack, id);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(num(v, "missing"), 200) << json::serialize(v);
}

// One batch; home holds every POST for 3 s. The worker process is stopped (SIGSTOP) with its
// POST on the wire; its lease lapses and a second etl-worker takes the job over; then the first
// resumes. Returns the task once it finished and its doubt, if any, was cleared.
json::object pause_a_run_mid_post(service_stack& stack) {
  const auto id = stack.trigger(true);
  EXPECT_TRUE(eventually(60s, [&] { return num(stack.report(), "posts_admitted") >= 1; }));
  auto children = children_of(stack.worker().pid());
  EXPECT_EQ(children.size(), 1U);
  if (children.size() != 1)
    return {};
  const pid_t paused = children.front();
  EXPECT_EQ(::kill(paused, SIGSTOP), 0);
  auto second = stack.start("etl-worker", {});
  // The second worker has taken the batch over once the ledger shows its claim: a run of the
  // job's second delivery.
  const bool taken_over = eventually(60s, [&] { return claim_fence(stack, id) >= 2; });
  ::kill(paused, SIGCONT);
  EXPECT_TRUE(taken_over) << "the job was never handed to the second worker";
  stack.wait_finished(id, 120s);
  const auto t = stack.wait_task(id, 60s, [](const json::object& now) {
    return num(now.at("counts").as_object(), "in_doubt") == 0;
  });
  second.stop(10s);
  std::printf("task: %s\nsimulator: %s\n", json::serialize(t).c_str(),
              json::serialize(stack.report()).c_str());
  EXPECT_EQ(stack.verify(id), 0);
  return t;
}

TEST(exactly_once, a_paused_run_is_fenced_out_and_its_answer_kept_not_sent_again) {
  // Under ETL_IN_DOUBT=resend with a 1 s wait, a run that trusted the ledger row alone would
  // POST the batch again while the first run's POST is still being handled: a duplicate. The
  // new run must wait out the earlier run's POST and read the ledger again; the first run,
  // resumed, records home's 2xx.
  auto stack = make_service_stack({"--verify", "--seed", "42", "--pages", "10", "--chaos-percent",
                                   "0", "--post-delay-ms", "3000"},
                                  {"ETL_WORKER_PROCESSES=1", "ETL_IN_DOUBT=resend",
                                   "ETL_IN_DOUBT_WAIT=1s", "ETL_POST_TIMEOUT=16s"});
  const auto t = pause_a_run_mid_post(stack);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "in_doubt"), 0) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 100);
  EXPECT_EQ(num(stack.report(), "posts"), 1) << json::serialize(stack.report());
  expect_exactly_once(stack.report(), 100);
}

TEST(exactly_once, a_paused_runs_late_2xx_clears_the_doubt_its_successor_recorded) {
  // Under ETL_IN_DOUBT=skip the second run records the batch in doubt at once; the first run,
  // resumed, hears home's 2xx and records it: the doubt is cleared, the task ends with none.
  auto stack = make_service_stack({"--verify", "--seed", "47", "--pages", "10", "--chaos-percent",
                                   "0", "--post-delay-ms", "3000"},
                                  {"ETL_WORKER_PROCESSES=1"});
  const auto t = pause_a_run_mid_post(stack);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "in_doubt"), 0) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 100);
  expect_exactly_once(stack.report(), 100);
}

TEST(exactly_once, a_cancelled_task_counts_a_batch_left_in_posting_as_in_doubt) {
  // The worker dies with its POST on the wire and the task is cancelled: its redelivered batch
  // job finds the task cancelled and the batch in posting. It must record the doubt on the task,
  // not leave the batch unresolved with the task's in_doubt at 0.
  auto stack = make_service_stack({"--verify", "--seed", "43", "--pages", "10", "--chaos-percent",
                                   "0", "--post-delay-ms", "2000"},
                                  {"ETL_WORKER_PROCESSES=1"});
  const auto id = stack.trigger(true);
  ASSERT_TRUE(eventually(60s, [&] { return num(stack.report(), "posts_admitted") >= 1; }));
  auto children = children_of(stack.worker().pid());
  ASSERT_EQ(children.size(), 1U);
  ASSERT_EQ(::kill(children.front(), SIGKILL), 0);
  auto r = http_post(stack.port(), "/extractor/tasks/" + id + "/cancel", "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto t = stack.wait_task(id, 90s, [](const json::object& now) {
    return num(now.at("counts").as_object(), "in_doubt") >= 1;
  });
  std::printf("task: %s\n", json::serialize(t).c_str());
  EXPECT_EQ(t.at("status").as_string(), "cancelled");
  EXPECT_EQ(num(t.at("counts").as_object(), "in_doubt"), 1) << json::serialize(t);
  auto [code, v] = verify_json(stack, id);
  EXPECT_EQ(code, 3) << json::serialize(v);
  EXPECT_EQ(num(v, "unproven"), 100) << json::serialize(v);
  EXPECT_EQ(num(v, "missing"), 0) << json::serialize(v);
}

TEST(exactly_once, a_server_killed_between_the_insert_and_the_enqueue_still_runs_the_task) {
  // The failpoint ends etl-server right after the trigger's task row commits, before its plan
  // job is enqueued. The server started again finds the queued task without a plan job and
  // enqueues it; the task completes.
  auto stack =
      make_service_stack({"--verify", "--seed", "44", "--pages", "20", "--chaos-percent", "0"},
                         {"ETL_TEST_FAILPOINT=trigger.after_insert"});
  auto r = http_post(stack.port(), "/extractor/trigger-task?audit_mode=true", "");
  EXPECT_FALSE(r && r->status == 202) << "the failpoint did not stop the server";
  ASSERT_EQ(stack.server().wait(10s).value_or(-1), 86)
      << "etl-server did not stop at the failpoint";
  std::string id;
  {
    pqxx::connection c(stack.database_url());
    pqxx::read_transaction tx(c);
    const auto rows = tx.exec("SELECT id, status, plan_job IS NULL FROM tasks");
    ASSERT_EQ(rows.size(), 1U);
    id = rows[0][0].as<std::string>();
    EXPECT_EQ(rows[0][1].as<std::string>(), "queued");
    EXPECT_TRUE(rows[0][2].as<bool>());
  }
  auto again = stack.start("etl-server", {});
  const auto t = stack.wait_finished(id, 120s);
  std::printf("task after the restart: %s\n", json::serialize(t).c_str());
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  expect_exactly_once(stack.report(), 200);
  EXPECT_EQ(stack.verify(id), 0);
  again.stop(10s);
}

TEST(exactly_once, a_failed_audit_dump_is_recorded_and_verify_says_why) {
  // Home holds each POST 2 s, time to put a directory where batch 1's dump must go: its rename
  // fails (EISDIR). The batch is posted; its dump failure is kept on the batch, and etl-verify
  // reports its ids as undumped with the reason, not as missing.
  auto stack = make_service_stack({"--verify", "--seed", "45", "--pages", "20", "--chaos-percent",
                                   "0", "--post-delay-ms", "2000"});
  const auto id = stack.trigger(true);
  fs::create_directories(stack.audit_dir() / id / "batch-1.json");
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  expect_exactly_once(stack.report(), 200);
  auto [code, v] = verify_json(stack, id);
  std::printf("etl-verify: %s\n", json::serialize(v).c_str());
  EXPECT_EQ(code, 3);
  EXPECT_EQ(num(v, "missing"), 0) << json::serialize(v);
  EXPECT_EQ(v.at("undumped_ids").as_array().size(), 100U) << json::serialize(v);
  ASSERT_EQ(v.at("undumped_batches").as_array().size(), 1U) << json::serialize(v);
  const auto& b = v.at("undumped_batches").as_array()[0].as_object();
  EXPECT_EQ(b.at("batch").as_int64(), 1);
  EXPECT_NE(json::serialize(b.at("reason")).find("audit dump failed"), std::string::npos);
}

TEST(exactly_once, a_source_listing_more_pages_than_a_task_can_plan_fails_it_with_the_reason) {
  auto stack = make_service_stack({"--seed", "46", "--pages", "10000000", "--chaos-percent", "0"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 60s);
  EXPECT_EQ(t.at("status").as_string(), "failed");
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("the source lists 10000000 pages, more than the 1000000"),
            std::string::npos)
      << errors;
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 0);
}

}  // namespace
}  // namespace etl::test
