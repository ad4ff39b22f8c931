// The delivery guarantees of docs/architecture.md under faults: workers killed at random, the
// supervisor killed, workers drained by SIGTERM, Redis and Postgres restarted, a chaotic or hostile
// source, two tasks at once. Real processes throughout (Redis, Postgres, animals-sim, etl-server,
// etl-worker). Each test judges the outcome by the simulator's own count of what home received
// and by etl-verify, never by the service's word alone, and prints one line
//   fault-figures: <name> faults=<n> animals=<n> missing=<n> duplicates=<n> seconds=<s>
// from which the README's "Guarantees" table is filled.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/queue/redis_connection.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::int64_t sum_of(const json::object& o) {
  std::int64_t n = 0;
  for (const auto& kv : o)
    n += kv.value().to_number<std::int64_t>();
  return n;
}

std::int64_t chaos_count(const json::object& report) {
  return sum_of(report.at("chaos").as_object());
}

std::int64_t counter(const json::object& task, std::string_view k) {
  return num(task.at("counts").as_object(), k);
}

std::int64_t batches_done(const json::object& task) {
  return num(task.at("batches").as_object(), "done");
}

std::string status_of(const json::object& task) {
  return std::string(task.at("status").as_string());
}

struct figures {
  std::int64_t faults = 0;
  std::int64_t animals = 0;
  std::int64_t missing = 0;
  std::int64_t duplicates = 0;
};

void print_figures(std::string_view name, const figures& f, steady::time_point started) {
  const double seconds = std::chrono::duration<double>(steady::now() - started).count();
  std::printf(
      "fault-figures: %.*s faults=%lld animals=%lld missing=%lld duplicates=%lld "
      "seconds=%.1f\n",
      static_cast<int>(name.size()), name.data(), static_cast<long long>(f.faults),
      static_cast<long long>(f.animals), static_cast<long long>(f.missing),
      static_cast<long long>(f.duplicates), seconds);
  std::fflush(stdout);
}

// The simulator's report once POSTs have stopped arriving for `quiet` (longer than any pause
// it holds a POST for), at most 30 s: a POST whose sender died may still be held in a pause.
json::object quiet_report(service_stack& stack, std::chrono::milliseconds quiet) {
  const auto deadline = steady::now() + 30s;
  auto last = stack.report();
  auto since = steady::now();
  while (steady::now() < deadline && steady::now() - since < quiet) {
    std::this_thread::sleep_for(200ms);  // polling the simulator, bounded by the deadline
    auto now = stack.report();
    if (num(now, "posts") != num(last, "posts") ||
        num(now, "posts_admitted") != num(last, "posts_admitted"))
      since = steady::now();
    last = std::move(now);
  }
  return last;
}

struct verify_run {
  int exit_code = -1;
  json::object out;
};

verify_run verify_json(service_stack& stack, const std::string& task_id) {
  auto p = stack.start("etl-verify", {"--task", task_id, "--json"});
  verify_run v;
  if (!p.read_until_eof(60s)) {
    ADD_FAILURE() << "etl-verify did not finish in 60 s";
    return v;
  }
  v.exit_code = p.wait(10s).value_or(-1);
  error_code ec;
  auto parsed = json::parse(p.output(), ec);
  if (ec || !parsed.is_object())
    ADD_FAILURE() << "etl-verify --json printed: " << p.output();
  else
    v.out = std::move(parsed.as_object());
  return v;
}

// What a task that lost worker processes must show. It succeeded; home got no id twice and no
// field changed; etl-verify proves nothing wrong. Only a batch whose POST was on the wire when
// its worker died may be unproven: the task counts it (`in_doubt`), etl-verify lists its ids and
// exits 3, and an id home lacks is one of those, never a silent gap.
figures expect_complete_despite_kills(service_stack& stack, const std::string& id,
                                      const json::object& t, std::int64_t total) {
  EXPECT_EQ(status_of(t), "succeeded") << json::serialize(t);
  const auto in_doubt = counter(t, "in_doubt");
  EXPECT_EQ(counter(t, "posted"), total) << json::serialize(t);
  const auto report = in_doubt == 0 ? stack.report() : quiet_report(stack, 3s);
  EXPECT_EQ(num(report, "duplicates"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "unexpected"), 0) << json::serialize(report);
  expect_fields_intact(report);
  const auto v = verify_json(stack, id);
  EXPECT_EQ(v.exit_code, in_doubt == 0 ? 0 : 3) << json::serialize(v.out);
  if (!v.out.empty()) {
    EXPECT_EQ(num(v.out, "missing"), 0) << json::serialize(v.out);
    EXPECT_EQ(num(v.out, "duplicated"), 0) << json::serialize(v.out);
    EXPECT_EQ(num(v.out, "unexpected"), 0) << json::serialize(v.out);
    std::set<std::int64_t> unproven;
    if (v.out.at("unproven_ids").is_array())
      for (const auto& x : v.out.at("unproven_ids").as_array())
        unproven.insert(x.to_number<std::int64_t>());
    EXPECT_LE(num(report, "missing"), static_cast<std::int64_t>(unproven.size()))
        << json::serialize(report);
    for (const auto& x : report.at("first_missing").as_array())
      EXPECT_TRUE(unproven.contains(x.to_number<std::int64_t>()))
          << "home lacks " << x << ", which no in-doubt batch holds";
  }
  std::printf("in doubt: %lld batch(es); simulator: %s\n", static_cast<long long>(in_doubt),
              json::serialize(report).c_str());
  return {0, total, num(report, "missing"), num(report, "duplicates")};
}

// --- A chaotic source --------------------------------------------------------------------------

void run_chaos(int percent, const char* seed, const char* name,
               std::vector<std::string> worker_env = {}) {
  auto stack = make_service_stack({"--verify", "--seed", seed, "--pages", "100", "--chaos-percent",
                                   std::to_string(percent), "--pause-min", "1", "--pause-max", "2"},
                                  std::move(worker_env));
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  const auto t = stack.wait_finished(id, 240s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_EQ(counter(t, "posted"), 1000);
  EXPECT_EQ(counter(t, "in_doubt"), 0);
  const auto report = stack.report();
  expect_exactly_once(report, 1000);
  EXPECT_GT(chaos_count(report), 0);
  EXPECT_EQ(stack.verify(id), 0);
  std::printf("task counts: %s\n", json::serialize(t.at("counts")).c_str());
  print_figures(name,
                {chaos_count(report), 1000, num(report, "missing"), num(report, "duplicates")},
                started);
}

TEST(faults, chaos_at_10_percent_posts_every_animal_exactly_once) {
  run_chaos(10, "61", "chaos-10%");
}

TEST(faults, chaos_at_30_percent_posts_every_animal_exactly_once) {
  // Two event-loop threads per worker process (the default is one): the HTTP client's strands
  // and its hedge race then run on two threads at once, under the most chaos any test sends.
  run_chaos(30, "62", "chaos-30%", {"ETL_WORKER_THREADS=2"});
}

// --- A hostile source: each fault mode of the simulator ----------------------------------------

struct fault_mode {
  const char* flag;  // the simulator's --fault-* flag
  const char* key;   // its name in the report's "faults"
  bool bad_records;  // whether the fault makes records unusable (rejected, not retried)
};

void PrintTo(const fault_mode& mode, std::ostream* out) {
  *out << "--fault-" << mode.flag;
}

class source_fault : public ::testing::TestWithParam<fault_mode> {};

// The rejected records of a task, as the ledger keeps them: (animal id or -1, reason).
std::vector<std::pair<std::int64_t, std::string>> rejected_rows(service_stack& stack,
                                                                const std::string& task_id) {
  pqxx::connection c(stack.database_url());
  pqxx::nontransaction tx(c);
  std::vector<std::pair<std::int64_t, std::string>> rows;
  for (const auto& r :
       tx.exec_params("SELECT coalesce(animal_id, -1), reason FROM rejected_records "
                      "WHERE task_id = $1",
                      task_id))
    rows.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::string>());
  return rows;
}

TEST_P(source_fault, bad_records_are_rejected_with_reasons_and_good_ones_posted_once) {
  const auto mode = GetParam();
  auto stack = make_service_stack({"--verify", "--seed", "63", "--pages", "40", "--chaos-percent",
                                   "0", std::string("--fault-") + mode.flag, "4"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  const auto report = stack.report();
  const auto injected = num(report.at("faults").as_object(), mode.key);
  EXPECT_GT(injected, 0) << json::serialize(report);
  const auto listed = num(report, "listed");
  const auto posted = counter(t, "posted");
  const auto rejected = counter(t, "rejected");
  EXPECT_EQ(counter(t, "in_doubt"), 0);

  // Every animal is posted once or rejected with a reason; home got each posted one once, intact.
  EXPECT_EQ(posted + rejected, listed) << json::serialize(t);
  EXPECT_EQ(num(report, "received"), posted) << json::serialize(report);
  EXPECT_EQ(num(report, "missing"), rejected) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "unexpected"), 0) << json::serialize(report);
  expect_fields_intact(report);
  const auto rows = rejected_rows(stack, id);
  EXPECT_EQ(static_cast<std::int64_t>(rows.size()), rejected);
  std::set<std::int64_t> rejected_ids;
  for (const auto& [animal, reason] : rows) {
    EXPECT_FALSE(reason.empty()) << "animal " << animal;
    rejected_ids.insert(animal);
  }
  for (const auto& x : report.at("first_missing").as_array())
    EXPECT_TRUE(rejected_ids.contains(x.to_number<std::int64_t>()))
        << "home lacks " << x << ", which was not rejected";
  if (mode.bad_records) {
    EXPECT_GT(rejected, 0) << json::serialize(t);
    // etl-verify accounts for every id: posted exactly once, or rejected with its reason.
    const auto v = verify_json(stack, id);
    EXPECT_EQ(v.exit_code, 4) << json::serialize(v.out);
    EXPECT_EQ(num(v.out, "missing"), 0) << json::serialize(v.out);
    EXPECT_EQ(num(v.out, "duplicated"), 0) << json::serialize(v.out);
    EXPECT_EQ(num(v.out, "rejected") + num(v.out, "rejected_without_id"), rejected)
        << json::serialize(v.out);
    if (!rows.empty())
      std::printf("a rejection: animal %lld: %s\n", static_cast<long long>(rows.front().first),
                  rows.front().second.c_str());
  } else {
    // A fault of the transport, not of the data: retried until every animal is posted.
    EXPECT_EQ(rejected, 0) << json::serialize(t);
    expect_exactly_once(report, listed);
    EXPECT_EQ(stack.verify(id), 0);
  }
  std::printf("task counts: %s\n", json::serialize(t.at("counts")).c_str());
  print_figures(std::string("fault-") + mode.flag,
                {injected, listed, num(report, "missing") - rejected, num(report, "duplicates")},
                started);
}

std::string fault_mode_name(const ::testing::TestParamInfo<fault_mode>& mode) {
  return mode.param.key;
}

INSTANTIATE_TEST_SUITE_P(faults, source_fault,
                         ::testing::Values(fault_mode{"malformed-json", "malformed_json", true},
                                           fault_mode{"wrong-types", "wrong_types", true},
                                           fault_mode{"missing-fields", "missing_fields", true},
                                           fault_mode{"html-errors", "html_errors", false},
                                           fault_mode{"reset", "reset", false},
                                           fault_mode{"trickle", "trickle", false},
                                           fault_mode{"big-body", "big_body", false}),
                         fault_mode_name);

// --- Killed and drained workers ----------------------------------------------------------------

// On loopback the pipeline moves 2,000 animals in about two seconds: too quick to act on while
// it runs. So the tests that act mid-task have home hold every POST (--post-delay-ms) and run
// one or two jobs per worker process (ETL_JOBS): a task then takes some seconds, with a POST on
// the wire much of that time.

// Whether a process is gone: no /proc entry, or a zombie nobody reaped yet (it runs no more).
bool process_gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  return stat.empty() || close == std::string::npos || close + 2 >= stat.size() ||
         stat[close + 2] == 'Z' || stat[close + 2] == 'X';
}

TEST(faults, worker_processes_sigkilled_every_second_or_two_lose_nothing) {
  auto stack =
      make_service_stack({"--verify", "--seed", "64", "--pages", "300", "--chaos-percent", "2",
                          "--pause-min", "1", "--pause-max", "2", "--post-delay-ms", "500"},
                         {"ETL_JOBS=1"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  std::mt19937 rng(64);
  std::uniform_int_distribution<int> gap_ms(1000, 2000);
  std::int64_t kills = 0;
  const auto deadline = steady::now() + 240s;
  json::object t;
  while (steady::now() < deadline) {
    t = stack.task(id);
    if (!t.empty() && status_of(t) != "queued" && status_of(t) != "running")
      break;
    // The fault schedule (a kill every 1-2 s), not a synchronization.
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(rng)));
    const auto children = children_of(stack.worker().pid());
    if (children.empty())
      continue;  // both slots are waiting to be restarted
    std::uniform_int_distribution<std::size_t> pick(0, children.size() - 1);
    if (::kill(children[pick(rng)], SIGKILL) == 0)
      ++kills;
  }
  t = stack.wait_finished(id, 60s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_GE(kills, 5) << "the task should have run through several kills";
  auto f = expect_complete_despite_kills(stack, id, t, 3000);
  f.faults = kills;
  print_figures("sigkill-workers", f, started);
}

TEST(faults, a_sigkilled_supervisor_leaves_no_orphans_and_a_new_one_finishes_the_task) {
  auto stack =
      make_service_stack({"--verify", "--seed", "65", "--pages", "150", "--chaos-percent", "2",
                          "--pause-min", "1", "--pause-max", "2", "--post-delay-ms", "500"},
                         {"ETL_JOBS=1", "ETL_DRAIN_DEADLINE=5s"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s, [](const json::object& t) { return batches_done(t) >= 2; });
  const auto children = children_of(stack.worker().pid());
  ASSERT_FALSE(children.empty());
  ASSERT_TRUE(stack.worker().signal(SIGKILL));
  EXPECT_EQ(stack.worker().wait(5s), 128 + SIGKILL);

  // The children get SIGTERM when their supervisor dies, drain within their deadline and exit.
  const auto orphan_deadline = steady::now() + 15s;
  auto alive = [&] {
    return std::count_if(children.begin(), children.end(),
                         [](pid_t p) { return !process_gone(p); });
  };
  while (alive() > 0 && steady::now() < orphan_deadline)
    std::this_thread::sleep_for(100ms);  // polling /proc, bounded by the deadline
  ASSERT_EQ(alive(), 0) << "worker processes outlived their supervisor by 15 s";
  ASSERT_NE(status_of(stack.task(id)), "succeeded") << "the task ended before the kill";

  auto again = stack.start("etl-worker", {});
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  auto f = expect_complete_despite_kills(stack, id, t, 1500);
  f.faults = 1;
  print_figures("sigkill-supervisor", f, started);
}

TEST(faults, sigterm_drains_the_workers_and_a_restart_finishes_the_task) {
  auto stack =
      make_service_stack({"--verify", "--seed", "66", "--pages", "150", "--chaos-percent", "2",
                          "--pause-min", "1", "--pause-max", "2", "--post-delay-ms", "500"},
                         {"ETL_JOBS=1", "ETL_DRAIN_DEADLINE=10s"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s, [](const json::object& t) { return batches_done(t) >= 2; });
  ASSERT_TRUE(stack.worker().signal(SIGTERM));
  const auto signalled = steady::now();
  // The supervisor allows its children the drain deadline plus 5 s, then kills them (exit 1).
  EXPECT_EQ(stack.worker().wait(20s), 0) << "etl-worker did not drain cleanly";
  EXPECT_LT(steady::now() - signalled, 15s);
  ASSERT_NE(status_of(stack.task(id)), "succeeded") << "the task ended before the drain";

  // Drained: no batch is left between its claim and its answer, no POST is on the wire.
  {
    pqxx::connection c(stack.database_url());
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM batches WHERE task_id = $1 AND state = "
                              "'posting'",
                              id)[0]
                  .as<int>(),
              0);
  }

  auto again = stack.start("etl-worker", {});
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_EQ(counter(t, "in_doubt"), 0) << "a drain must leave nothing in doubt";
  EXPECT_EQ(counter(t, "posted"), 1500);
  const auto report = stack.report();
  expect_exactly_once(report, 1500);
  EXPECT_EQ(stack.verify(id), 0);
  print_figures("sigterm-workers", {1, 1500, num(report, "missing"), num(report, "duplicates")},
                started);
}

// --- Restarted Redis --------------------------------------------------------------------------

TEST(faults, redis_restarted_twice_mid_task_loses_nothing) {
  redis_server_options aof;
  aof.appendonly = true;
  auto stack =
      make_service_stack({"--verify", "--seed", "67", "--pages", "300", "--chaos-percent", "2",
                          "--pause-min", "1", "--pause-max", "2", "--post-delay-ms", "300"},
                         {"ETL_JOBS=1"}, aof);
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  auto t =
      stack.wait_task(id, 120s, [](const json::object& now) { return batches_done(now) >= 2; });
  for (int restart = 1; restart <= 2; ++restart) {
    ASSERT_EQ(status_of(t), "running") << "restart " << restart << " came after the task ended";
    stack.redis().restart();
    // The task moves on after the restart before the next one.
    const auto before = batches_done(t);
    t = stack.wait_task(id, 120s,
                        [&](const json::object& now) { return batches_done(now) >= before + 2; });
  }
  t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_EQ(counter(t, "in_doubt"), 0);
  EXPECT_EQ(counter(t, "posted"), 3000);
  const auto report = stack.report();
  expect_exactly_once(report, 3000);
  EXPECT_EQ(stack.verify(id), 0);
  print_figures("redis-restart-x2", {2, 3000, num(report, "missing"), num(report, "duplicates")},
                started);
}

// --- Restarted Postgres ------------------------------------------------------------------------

TEST(faults, postgres_restarted_mid_task_loses_nothing) {
  auto stack =
      make_service_stack({"--verify", "--seed", "68", "--pages", "200", "--chaos-percent", "2",
                          "--pause-min", "1", "--pause-max", "2", "--post-delay-ms", "500"},
                         {"ETL_JOBS=1"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  auto t =
      stack.wait_task(id, 120s, [](const json::object& now) { return batches_done(now) >= 2; });
  ASSERT_EQ(status_of(t), "running");
  shared_postgres().restart();
  t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_EQ(counter(t, "in_doubt"), 0) << json::serialize(t);
  EXPECT_EQ(counter(t, "posted"), 2000);
  const auto report = stack.report();
  expect_exactly_once(report, 2000);
  EXPECT_EQ(stack.verify(id), 0);
  print_figures("postgres-restart", {1, 2000, num(report, "missing"), num(report, "duplicates")},
                started);
}

// Polls the simulator (no chaos: every POST it admits is answered) until `pred` holds for its
// report, at most 30 s; returns the last report.
json::object wait_report(service_stack& stack,
                         const std::function<bool(const json::object&)>& pred) {
  const auto deadline = steady::now() + 30s;
  auto report = stack.report();
  while (!pred(report) && steady::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling the simulator, bounded by the deadline
    report = stack.report();
  }
  EXPECT_TRUE(pred(report)) << json::serialize(report);
  return report;
}

bool a_post_on_the_wire(const json::object& r) {
  return num(r, "posts_admitted") > num(r, "posts");
}

TEST(faults, postgres_down_longer_than_a_jobs_deliveries_loses_nothing) {
  // Down for 12 s, far longer than ETL_MAX_DELIVERIES (5) leases of 1 s: a job handed back at
  // every failure would be dead-lettered, and its task could not even be failed. Taken down
  // between POSTs, so the jobs meet it as they start.
  auto stack = make_service_stack({"--verify", "--seed", "70", "--pages", "200", "--chaos-percent",
                                   "0", "--post-delay-ms", "500"},
                                  {"ETL_JOBS=1", "ETL_MAX_DELIVERIES=5"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s, [](const json::object& now) { return batches_done(now) >= 2; });
  wait_report(stack, [](const json::object& r) { return !a_post_on_the_wire(r); });
  shared_postgres().stop();
  std::this_thread::sleep_for(12s);  // the length of the outage, not a synchronization
  shared_postgres().start();
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_EQ(counter(t, "posted"), 2000);
  const auto report = stack.report();
  expect_exactly_once(report, 2000);
  EXPECT_EQ(counter(t, "in_doubt"), 0) << json::serialize(t);
  EXPECT_EQ(stack.verify(id), 0);
  print_figures("postgres-down-12s", {1, 2000, num(report, "missing"), num(report, "duplicates")},
                started);
}

TEST(faults, postgres_down_while_home_answers_a_post_leaves_nothing_in_doubt) {
  // Taken down while POSTs are on the wire: home's 2xx arrives during the outage, and only the
  // worker holding it knows the batch was taken. It keeps trying to record that rather than
  // leave the batch `posting` for a redelivery to call in doubt.
  auto stack = make_service_stack({"--verify", "--seed", "71", "--pages", "200", "--chaos-percent",
                                   "0", "--post-delay-ms", "500"},
                                  {"ETL_JOBS=1"});
  const auto started = steady::now();
  const auto id = stack.trigger(true);
  stack.wait_task(id, 120s, [](const json::object& now) { return batches_done(now) >= 2; });
  const auto before = wait_report(stack, a_post_on_the_wire);
  shared_postgres().stop();
  const auto down = steady::now();
  wait_report(stack, [&](const json::object& r) { return num(r, "posts") > num(before, "posts"); });
  std::this_thread::sleep_until(down + 3s);  // the length of the outage, not a synchronization
  shared_postgres().start();
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
  EXPECT_EQ(counter(t, "in_doubt"), 0) << json::serialize(t);
  EXPECT_EQ(counter(t, "posted"), 2000);
  const auto report = stack.report();
  expect_exactly_once(report, 2000);
  EXPECT_EQ(stack.verify(id), 0);
  print_figures("postgres-down-mid-post",
                {1, 2000, num(report, "missing"), num(report, "duplicates")}, started);
}

// The pending entry of the queue's one job: its deliveries and idle time, nullopt when none.
std::optional<std::pair<std::int64_t, std::int64_t>> the_pending_job(redis_connection& redis) {
  auto r = redis.command({"XPENDING", "etl:jobs", "etl-workers", "-", "+", "10"});
  if (!r || !r->is_array() || r->elements.size() != 1)
    return std::nullopt;
  const auto& e = r->elements[0];  // [id, consumer, idle ms, deliveries]
  if (!e.is_array() || e.elements.size() != 4)
    return std::nullopt;
  return std::pair{e.elements[3].integer, e.elements[2].integer};
}

// A source nobody listens on: the plan job fails on both its deliveries. Postgres stops after
// the last one is handed back and before the queue dead-letters it, a 6 s lease later; the
// worker must keep trying to fail the task until Postgres is back. With `kill_worker` the worker
// process that dead-lettered it is SIGKILLed while it tries: the one the supervisor starts
// instead must record it.
void dead_letter_during_a_postgres_outage(bool kill_worker) {
  const auto started = steady::now();
  auto stack = make_service_stack(
      {"--pages", "5"}, {"ETL_SOURCE_URL=http://127.0.0.1:9", "ETL_RETRY_ATTEMPTS=2",
                         "ETL_MAX_DELIVERIES=2", "ETL_JOB_LEASE=6s", "ETL_WORKER_PROCESSES=1"});
  const auto id = stack.trigger(false);
  auto url = parse_redis_url(stack.redis().url());
  ASSERT_TRUE(url);
  redis_connection redis(*url);
  const auto deadline = steady::now() + 60s;
  for (;;) {
    // Handed back for the last time: delivered twice, and its lease unrenewed for 3.5 s, well
    // past the 2 s between the renewals of a job in hand.
    const auto p = the_pending_job(redis);
    if (p && p->first == 2 && p->second >= 3'500)
      break;
    ASSERT_LT(steady::now(), deadline) << "the plan job was never handed back twice";
    std::this_thread::sleep_for(20ms);  // polling Redis, bounded by the deadline
  }
  shared_postgres().stop();
  for (;;) {
    auto len = redis.command({"XLEN", "etl:jobs:dead"});
    if (len && len->integer == 1)
      break;
    ASSERT_LT(steady::now(), deadline) << "the plan job was never dead-lettered";
    std::this_thread::sleep_for(20ms);
  }
  // Until the worker has met the outage while failing the task (then Postgres comes back).
  while (stack.log_tail().find("recording its dead plan job") == std::string::npos) {
    ASSERT_LT(steady::now(), deadline) << "the dead job never met the outage:\n"
                                       << stack.log_tail();
    std::this_thread::sleep_for(20ms);
  }
  if (kill_worker) {
    auto children = children_of(stack.worker().pid());
    ASSERT_EQ(children.size(), 1U);
    ASSERT_EQ(::kill(children.front(), SIGKILL), 0);
  }
  shared_postgres().start();
  const auto t = stack.wait_finished(id, 60s);
  ASSERT_EQ(status_of(t), "failed") << json::serialize(t);
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("plan job dead-lettered"), std::string::npos) << errors;
  print_figures(kill_worker ? "dead-letter-while-postgres-down-worker-killed"
                            : "dead-letter-while-postgres-down",
                {kill_worker ? 2 : 1, 0, 0, 0}, started);
}

TEST(faults, a_job_dead_lettered_while_postgres_is_down_still_fails_its_task) {
  dead_letter_during_a_postgres_outage(false);
}

TEST(faults, a_dead_job_whose_worker_died_before_recording_it_still_fails_its_task) {
  dead_letter_during_a_postgres_outage(true);
}

// --- Two tasks at once -------------------------------------------------------------------------

TEST(faults, two_tasks_at_once_are_each_complete_and_separate) {
  // Without --verify the simulator accepts an id again and counts it: each task posts every id
  // once, so every id arrives exactly twice.
  auto stack = make_service_stack({"--seed", "69", "--pages", "60", "--chaos-percent", "2",
                                   "--pause-min", "1", "--pause-max", "2"});
  const auto started = steady::now();
  const auto first = stack.trigger(true);
  const auto second = stack.trigger(true);
  ASSERT_NE(first, second);
  for (const auto& id : {first, second}) {
    const auto t = stack.wait_finished(id, 180s);
    ASSERT_EQ(status_of(t), "succeeded") << json::serialize(t);
    EXPECT_EQ(counter(t, "posted"), 600) << json::serialize(t);
    EXPECT_EQ(counter(t, "in_doubt"), 0) << json::serialize(t);
    EXPECT_EQ(batches_done(t), 6) << json::serialize(t);
    EXPECT_EQ(stack.verify(id), 0) << "task " << id;
    // Its own audit dumps: one file per batch in the task's own folder.
    const auto dumps = std::distance(std::filesystem::directory_iterator(stack.audit_dir() / id),
                                     std::filesystem::directory_iterator{});
    EXPECT_EQ(dumps, 6) << "task " << id;
  }
  const auto report = stack.report();
  EXPECT_EQ(num(report, "received"), 600) << json::serialize(report);
  EXPECT_EQ(num(report, "missing"), 0) << json::serialize(report);
  EXPECT_EQ(num(report, "duplicates"), 600) << json::serialize(report);
  EXPECT_EQ(num(report, "animals_posted"), 1200) << json::serialize(report);
  EXPECT_EQ(num(report, "unexpected"), 0) << json::serialize(report);
  expect_fields_intact(report);
  // Duplicates beyond the second task's own copy of each id.
  print_figures(
      "two-tasks",
      {chaos_count(report), 1200, num(report, "missing"), num(report, "duplicates") - 600},
      started);
}

}  // namespace
}  // namespace etl::test
