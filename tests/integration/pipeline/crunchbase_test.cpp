// The shipped crunchbase-orgs pipeline against crunchbase-sim with chaos and real Postgres: a
// first run delivers every organization once, as Parquet under
// crunchbase/context=org/_extraction_date=DAY/ (read back by DuckDB, compared with what the
// simulator serves, read by Python); the simulator's clock moves, some organizations change, and
// a second run delivers exactly the changed ones, each once; a backfill reads from its date and
// leaves the cursor alone. A copy with small pages runs as a chain of batches whose worker dies
// before every commit, and still delivers each organization once. A wrong key and a missing one
// fail their tasks at once, saying why, the key in no task or log.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/test/child_process.hpp"
#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/sim_process.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string key = "cb-test-key-5f2e";

struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
};

std::string shipped_spec() {
  std::ifstream in(fs::path(source_dir) / "pipelines/specs/crunchbase-orgs.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with `from` replaced by `to` (exactly once: a spec edit that misses fails the test).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Every organization the simulator serves now, {uuid: updated_at epoch seconds}, as JSON: read
// by Python over the API (keyset pages, retried through the simulator's chaos) into `file`.
void snapshot(const std::string& upstream, const fs::path& file) {
  command_output(R"(python3 - ')" + upstream + "' '" + key + "' '" + file.string() + R"(' <<'PY'
import calendar, json, sys, time, urllib.request
url, key, out = sys.argv[1:4]
seen, after = {}, None
while True:
    body = {'field_ids': ['updated_at'], 'limit': 1000,
            'order': [{'field_id': 'updated_at', 'sort': 'asc'}]}
    if after:
        body['after_id'] = after
    for attempt in range(200):
        try:
            req = urllib.request.Request(url + '/api/v4/searches/organizations',
                data=json.dumps(body).encode(), headers={'X-cb-user-key': key})
            page = json.load(urllib.request.urlopen(req, timeout=30))['entities']
            break
        except Exception:
            time.sleep(0.1)
    for e in page:
        seen[e['uuid']] = calendar.timegm(time.strptime(e['properties']['updated_at'], '%Y-%m-%dT%H:%M:%SZ'))
    if len(page) < 1000:
        break
    after = page[-1]['uuid']
json.dump(seen, open(out, 'w'))
PY)");
}

// "<count> <md5>" of the versions in `now` that `before` (a snapshot file, or "" for none) did
// not have: what a run after `before` must deliver.
std::string expected_versions(const fs::path& now, const std::string& before) {
  return command_output(R"(python3 - ')" + now.string() + "' '" + before + R"(' <<'PY'
import hashlib, json, sys
now = json.load(open(sys.argv[1]))
before = json.load(open(sys.argv[2])) if sys.argv[2] else {}
versions = sorted('%s@%d' % (u, t) for u, t in now.items() if before.get(u) != t)
print(len(versions), hashlib.md5(','.join(versions).encode()).hexdigest())
PY)");
}

// "<rows> <distinct uuids> <md5> <days>" of the Parquet files `source` names (DuckDB's 'glob'
// or ['file', ...]), read by DuckDB: the md5 in the form expected_versions prints, the days
// their _extraction_date folders name.
std::string delivered_versions(const std::string& source) {
  const auto reader = fs::path(source_dir) / "tests/parquet/read.mjs";
  const auto out = command_output(
      "node '" + reader.string() + "' sql \"SELECT count(*)::INTEGER AS n, " +
      "count(DISTINCT uuid)::INTEGER AS k, md5(string_agg(uuid || '@' || " +
      "epoch(updated_at)::BIGINT, ',' ORDER BY uuid)) AS h, string_agg(DISTINCT " +
      "regexp_extract(filename, '_extraction_date=([0-9-]+)/', 1), ',') AS days FROM " +
      "read_parquet(" + source + ", filename = true, hive_partitioning = false)\"");
  std::istringstream lines(out);
  std::string first;
  std::getline(lines, first);
  if (first.empty())
    return "no answer: " + out;
  const auto row = json::parse(first).as_object();
  return std::to_string(num(row, "n")) + " " + std::to_string(num(row, "k")) + " " +
         std::string(row.at("h").as_string()) + " " + std::string(row.at("days").as_string());
}

std::string today_utc() {
  const auto day = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

// A task's Parquet files, as a DuckDB glob.
std::string files_of(const fs::path& out, const std::string& task) {
  return "'" +
         (out / "crunchbase/context=org/_extraction_date=*" / ("org-" + task + "-*.parquet"))
             .string() +
         "'";
}

// `count md5` of expected_versions, with this run's day appended: what delivered_versions says.
std::string as_delivered(std::string expected) {
  while (!expected.empty() && expected.back() == '\n')
    expected.pop_back();
  const auto space = expected.find(' ');
  return expected.substr(0, space) + " " + expected.substr(0, space) + expected.substr(space) +
         " " + today_utc();
}

std::optional<std::string> stored_cursor(service_stack& stack) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  const auto rows = tx.exec(
      "SELECT to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM pipeline_cursors WHERE pipeline = 'crunchbase-orgs'");
  if (rows.empty())
    return std::nullopt;
  return rows[0][0].as<std::string>();
}

result<sim_process> start_sim(const std::string& orgs, const std::string& chaos) {
  const std::vector<std::string> args{"--seed",      "11", "--key",           key,
                                      "--orgs",      orgs, "--chaos-percent", chaos,
                                      "--pause-min", "0",  "--pause-max",     "1"};
  std::string why;
  auto sim = sim_process::start_binary("crunchbase-sim", args, 10s, &why);
  EXPECT_TRUE(sim) << why;
  return sim;
}

TEST(crunchbase, each_change_once_across_runs_and_a_backfill_leaves_the_cursor) {
  // 12,000 organizations: three batches of five 1,000-organization pages (the shipped spec's).
  auto upstream = start_sim("12000", "3");
  ASSERT_TRUE(upstream);
  scratch_dir out("etl-crunchbase");
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_CRUNCHBASE_URL=" + upstream->base_url(),
                                     "ETL_OUTPUT_DIR=" + out.path.string(), "CB_API_KEY=" + key}});
  const auto before = out.path / "before.json";
  const auto after = out.path / "after.json";
  snapshot(upstream->base_url(), before);

  // The first run: every organization once.
  const auto first = stack.trigger_json(R"({"pipeline": "crunchbase-orgs"})");
  ASSERT_FALSE(first.empty());
  auto t = stack.wait_finished(first, 300s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 12000) << json::serialize(t);
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 3) << json::serialize(t);
  EXPECT_EQ(t.at("cursor").at("start"), "0001-01-01") << json::serialize(t);
  EXPECT_EQ(t.at("cursor").at("advances"), true);
  const auto all = expected_versions(before, "");
  EXPECT_EQ(delivered_versions(files_of(out.path, first)), as_delivered(all));
  EXPECT_EQ(stack.verify(first), 0) << stack.log_tail();
  const auto cursor = stored_cursor(stack);
  ASSERT_TRUE(cursor) << "a succeeded task left no cursor";
  EXPECT_EQ(t.at("cursor").at("after").as_string(), *cursor) << json::serialize(t);

  // The clock moves three hours: some organizations change. The second run reads from the
  // cursor (its second again) and delivers exactly the changed versions.
  ASSERT_TRUE(http_post(upstream->port(), "/sim/clock", R"({"advance_seconds": 10800})"));
  snapshot(upstream->base_url(), after);
  const auto changed = expected_versions(after, before.string());
  ASSERT_NE(changed.substr(0, 2), "0 ") << "the clock moved and nothing changed: " << changed;
  const auto second = stack.trigger_json(R"({"pipeline": "crunchbase-orgs"})");
  t = stack.wait_finished(second, 300s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_EQ(t.at("cursor").at("start").as_string(), *cursor) << json::serialize(t);
  EXPECT_GT(num(t.at("counts").as_object(), "duplicates"), 0)
      << "the cursor's own second was not read again: " << json::serialize(t);
  EXPECT_EQ(delivered_versions(files_of(out.path, second)), as_delivered(changed));
  // Read again from the same cursor, less what earlier tasks delivered at it: each once.
  EXPECT_EQ(stack.verify(second), 0) << stack.log_tail();
  const auto moved = stored_cursor(stack);
  ASSERT_TRUE(moved);
  EXPECT_GT(*moved, *cursor);

  // A third run with nothing changed delivers nothing, and the cursor stays.
  const auto third = stack.trigger_json(R"({"pipeline": "crunchbase-orgs"})");
  t = stack.wait_finished(third, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 0) << json::serialize(t);
  EXPECT_EQ(stored_cursor(stack), moved);

  // A backfill from a day reads every version updated since then, and leaves the cursor alone.
  const auto backfill = stack.trigger_json(
      R"({"pipeline": "crunchbase-orgs", "params": {"processing_date": "2000-01-01"}})");
  t = stack.wait_finished(backfill, 300s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(t.at("cursor").at("start"), "2000-01-01");
  EXPECT_EQ(t.at("cursor").at("advances"), false);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 12000) << json::serialize(t);
  EXPECT_EQ(stored_cursor(stack), moved);

  // The key is in no log line and no task.
  EXPECT_EQ(stack.log_tail().find(key), std::string::npos);
  EXPECT_EQ(json::serialize(t).find(key), std::string::npos);
  // Within the API's 200 calls a minute (the test's own reads of the API included).
  const auto report = upstream->report().value().as_object();
  EXPECT_EQ(num(report, "rate_limited"), 0) << json::serialize(report);
  EXPECT_LE(num(report, "calls_per_minute_max"), 200) << json::serialize(report);

  // DuckDB reads the whole output with Hive partitioning: every version the simulator served
  // (its report counts uuid@updated_at), under the day this test ran; the backfill's versions
  // again, so twice the first run's.
  const auto reader = fs::path(source_dir) / "tests/parquet/read.mjs";
  const auto lake = command_output(
      "node '" + reader.string() + "' sql \"SELECT count(*)::INTEGER AS n, " +
      "count(DISTINCT uuid || '@' || epoch(updated_at)::BIGINT)::INTEGER AS v, " +
      "count(DISTINCT _extraction_date)::INTEGER AS days, min(_extraction_date)::VARCHAR AS day " +
      "FROM read_parquet('" + (out.path / "crunchbase/context=org/*/*.parquet").string() +
      "', hive_partitioning = true)\"");
  const auto row = json::parse(lake.substr(0, lake.find('\n'))).as_object();
  const auto versions = num(report.at("served").at("versions").as_object(), "distinct");
  EXPECT_EQ(num(row, "v"), versions)
      << lake << json::serialize(report.at("served").at("versions").at("distinct"));
  EXPECT_EQ(num(row, "n"), 12000 + versions) << lake;
  EXPECT_EQ(num(row, "days"), 1) << lake;
  EXPECT_EQ(row.at("day").as_string(), today_utc()) << lake;
}

TEST(crunchbase,
     a_chain_of_batches_whose_worker_dies_before_each_commit_delivers_each_once_and_compacts) {
  auto upstream = start_sim("3000", "3");
  ASSERT_TRUE(upstream);
  scratch_dir out("etl-crunchbase-chain");
  scratch_dir specs("etl-crunchbase-specs");
  // 100 a page, two pages a batch: a chain of 15 batches.
  auto spec = replaced(shipped_spec(), "name: crunchbase-orgs", "name: crunchbase-small");
  spec = replaced(spec, "    limit: 1000", "    limit: 100");
  spec = replaced(spec, "page_size: 1000", "page_size: 100");
  spec = replaced(spec, "pages_per_batch: 5", "pages_per_batch: 2");
  std::ofstream(specs.path / "crunchbase-small.yaml") << spec;
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_CRUNCHBASE_URL=" + upstream->base_url(),
                                     "ETL_OUTPUT_DIR=" + out.path.string(), "CB_API_KEY=" + key,
                                     "ETL_PIPELINES_DIR=" + specs.path.string(), "ETL_JOB_LEASE=2s",
                                     "ETL_TEST_FAILPOINT=pipeline_batch.before_commit"}});
  const auto before = out.path / "before.json";
  snapshot(upstream->base_url(), before);
  const auto id = stack.trigger_json(R"({"pipeline": "crunchbase-small"})");
  ASSERT_FALSE(id.empty());
  const auto t = stack.wait_finished(id, 300s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_NE(stack.log_tail().find("failpoint pipeline_batch.before_commit"), std::string::npos)
      << "the failpoint never fired: the test proves nothing";
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 16) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 3000) << json::serialize(t);
  // Only the files the manifest lists count (a killed run's file is rewritten by the next).
  pqxx::connection c(stack.database_url());
  std::string list;
  {
    pqxx::read_transaction tx(c);
    for (const auto& row :
         tx.exec_params("SELECT path FROM output_files WHERE task_id = $1 ORDER BY path", id))
      list += (list.empty() ? "['" : "', '") + (out.path / row[0].as<std::string>()).string();
  }
  const auto expected = as_delivered(expected_versions(before, ""));
  EXPECT_EQ(delivered_versions(list + "']"), expected);
  const auto folder = out.path / "crunchbase/context=org" / ("_extraction_date=" + today_utc());
  const auto files_on_disk = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(folder))
      names.push_back(e.path().filename().string());
    return names;
  };
  ASSERT_GE(files_on_disk().size(), 15u);

  // Compaction: the folder's 15 files become one, the same rows, swapped in the manifest.
  ASSERT_EQ(stack.run_to_end("etl-server", {"--compact", "crunchbase-small"}), 0)
      << stack.log_tail();
  const auto listed = [&] {
    pqxx::read_transaction rtx(c);
    std::vector<std::string> paths;
    for (const auto& row :
         rtx.exec("SELECT o.path FROM output_files o JOIN tasks t ON t.id = o.task_id "
                  "WHERE t.pipeline = 'crunchbase-small' ORDER BY o.path"))
      paths.push_back(row[0].as<std::string>());
    return paths;
  };
  const auto after = listed();
  ASSERT_EQ(after.size(), 1u) << ::testing::PrintToString(after);
  EXPECT_TRUE(after[0].find("/compacted-") != std::string::npos) << after[0];
  EXPECT_EQ(files_on_disk(), std::vector<std::string>{fs::path(after[0]).filename().string()});
  EXPECT_EQ(delivered_versions("'" + (out.path / after[0]).string() + "'"), expected);
  // The compaction is a task of the pipeline; a second run has nothing to merge.
  const auto tasks = stack.get_json("/extractor/tasks?pipeline=crunchbase-small").at("tasks");
  ASSERT_EQ(tasks.as_array().size(), 2u);
  EXPECT_EQ(tasks.at(0).at("status"), "succeeded") << json::serialize(tasks);
  EXPECT_EQ(tasks.at(0).at("params").at("compaction"), true) << json::serialize(tasks);
  EXPECT_EQ(num(tasks.at(0).at("counts").as_object(), "posted"), 3000);
  ASSERT_EQ(stack.run_to_end("etl-server", {"--compact", "crunchbase-small"}), 0);
  EXPECT_EQ(listed(), after);
}

TEST(crunchbase, a_wrong_or_missing_key_fails_the_task_at_once_saying_why) {
  auto upstream = start_sim("100", "0");
  ASSERT_TRUE(upstream);
  scratch_dir out("etl-crunchbase-keys");
  scratch_dir specs("etl-crunchbase-key-specs");
  // A copy that reads its key from a variable no one sets.
  auto spec = replaced(shipped_spec(), "name: crunchbase-orgs", "name: crunchbase-unkeyed");
  spec = replaced(spec, "env: CB_API_KEY,", "env: CB_KEY_NEVER_SET,");
  std::ofstream(specs.path / "crunchbase-unkeyed.yaml") << spec;
  const std::string wrong = "wrong-key-9d1c";
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_CRUNCHBASE_URL=" + upstream->base_url(),
                                     "ETL_OUTPUT_DIR=" + out.path.string(), "CB_API_KEY=" + wrong,
                                     "ETL_PIPELINES_DIR=" + specs.path.string()}});
  const auto refused = stack.trigger_json(R"({"pipeline": "crunchbase-orgs"})");
  auto t = stack.wait_finished(refused, 60s);
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  const auto errors = json::serialize(t.at("errors"));
  EXPECT_NE(errors.find("status 401"), std::string::npos) << errors;
  EXPECT_NE(errors.find("refuses the credentials"), std::string::npos) << errors;
  EXPECT_EQ(json::serialize(t).find(wrong), std::string::npos) << json::serialize(t);
  // At once: one search call for the one batch, no retry (the report's own request counts too).
  const auto report = upstream->report().value().as_object();
  EXPECT_EQ(num(report, "requests"), 2) << json::serialize(report);

  const auto unkeyed = stack.trigger_json(R"({"pipeline": "crunchbase-unkeyed"})");
  t = stack.wait_finished(unkeyed, 60s);
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  EXPECT_NE(json::serialize(t.at("errors")).find("CB_KEY_NEVER_SET"), std::string::npos)
      << json::serialize(t);
  EXPECT_EQ(stack.log_tail().find(wrong), std::string::npos);
  EXPECT_TRUE(!fs::exists(out.path / "crunchbase") || fs::is_empty(out.path / "crunchbase"));
}

}  // namespace
}  // namespace etl::test
