// The shipped randomuser pipeline against randomuser-sim with chaos: three CSV tables per task,
// read back by Python's csv module; keys the same on a second run of the same seed; the password
// hashed as Python's hashlib computes it, never in clear; a default seed recorded on the task;
// and without ETL_HASH_SALT the task fails at once, writing nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "etl/test/child_process.hpp"
#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/sim_process.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string salt = "test-pepper-8f1c";

struct output_dir {
  fs::path path = fs::temp_directory_path() / ("etl-randomuser-" + std::to_string(::getpid()));
  output_dir() { fs::remove_all(path); }
  ~output_dir() { fs::remove_all(path); }
};

// What Python makes of a task's three CSV files: one line of facts, each checked below.
std::string python_summary(const fs::path& folder, const std::string& upstream,
                           const std::string& query) {
  return command_output(R"(python3 - ')" + folder.string() + "' '" + upstream + "' '" + query +
                        "' '" + salt + R"(' <<'PY'
import csv, glob, hashlib, json, os, re, sys, urllib.request
folder, upstream, query, salt = sys.argv[1:5]
tables = {}
for path in sorted(glob.glob(os.path.join(folder, '*.csv'))):
    name = os.path.basename(path)
    assert re.fullmatch(r'\d{8}_(users|addresses|logins)\.csv', name), name
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    tables[name[9:-4]] = rows
    assert all(re.fullmatch(r'[A-Za-z0-9_]+', c) for c in rows[0]), rows[0].keys()
users, addresses, logins = tables['users'], tables['addresses'], tables['logins']
# The same users straight from the upstream (no chaos on a retry-free read: try until one answers).
for attempt in range(50):
    try:
        raw = json.load(urllib.request.urlopen(upstream + '/api/?' + query, timeout=20))['results']
        break
    except Exception:
        pass
by_uuid = {u['login']['uuid']: u for u in raw}
# The secrets in clear: no cell of any table may hold one.
secrets = {u['login']['password'] for u in raw} | {u['id']['value'] for u in raw if u['id']['value']}
cells = {c for rows in tables.values() for row in rows for c in row.values()}
clear = len(secrets & cells)
good_hash = sum(1 for l in logins if l['password_hash'] == hashlib.pbkdf2_hmac(
    'sha256', by_uuid[l['uuid']]['login']['password'].encode(), salt.encode(), 10000).hex())
ids = {u['user_id'] for u in users}
linked = sum(1 for u in users if u['address_id'] in {a['address_id'] for a in addresses})
ca = [a['postcode'] for a in addresses if a['country'] == 'Canada']
no = [a['postcode'] for a in addresses if a['country'] == 'Norway']
print(len(users), len(ids), len(logins), len(addresses) <= len(users), linked, good_hash, clear,
      all(re.fullmatch(r'[A-Z]\d[A-Z] \d[A-Z]\d', p) for p in ca) and len(ca) > 0,
      all(re.fullmatch(r'\d{4}', p) for p in no) and len(no) > 0,
      all(float(a['latitude']) == float(a['latitude']) for a in addresses),
      sum(1 for l in logins if l['id_value_hash'] == ''))
print(json.dumps(sorted(ids)))
PY)");
}

fs::path task_folder(const fs::path& root, const std::string& task) {
  return root / "randomuser" / task;
}

// A copy of the shipped spec named `name` in `dir`, with `from` replaced by `to` (a replacement
// that finds nothing fails the test).
void write_spec_copy(const fs::path& dir, const std::string& name, const std::string& from,
                     const std::string& to) {
  fs::create_directories(dir);
  std::ifstream in(fs::path(source_dir) / "pipelines/specs/randomuser.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto spec = text.str();
  for (const auto& [a, b] :
       {std::pair<std::string, std::string>{"name: randomuser", "name: " + name}, {from, to}}) {
    const auto at = spec.find(a);
    EXPECT_NE(at, std::string::npos) << a;
    if (at != std::string::npos)
      spec.replace(at, a.size(), b);
  }
  std::ofstream(dir / (name + ".yaml")) << spec;
}

// What DuckDB (npm) makes of a task's CSV files: "<users> <addresses> <logins> <users whose
// address_id is an address's>".
std::string duckdb_summary(const fs::path& folder) {
  const auto csv = [&](const std::string& table) {
    return "read_csv('" + (folder / ("*_" + table + ".csv")).string() + "', header = true)";
  };
  const auto reader = fs::path(source_dir) / "tests/parquet/read.mjs";
  const auto out =
      command_output("node '" + reader.string() + "' sql \"SELECT (SELECT count(*) FROM " +
                     csv("users") + ")::INTEGER AS u, (SELECT count(*) FROM " + csv("addresses") +
                     ")::INTEGER AS a, (SELECT count(*) FROM " + csv("logins") +
                     ")::INTEGER AS l, (SELECT count(*) FROM " + csv("users") + " u JOIN " +
                     csv("addresses") + " a ON a.address_id = u.address_id)::INTEGER AS j\"");
  std::istringstream lines(out);
  std::string first;
  std::getline(lines, first);
  if (first.empty())
    return "no answer: " + out;
  const auto row = json::parse(first).as_object();
  return std::to_string(num(row, "u")) + " " + std::to_string(num(row, "a")) + " " +
         std::to_string(num(row, "l")) + " " + std::to_string(num(row, "j"));
}

// Each file of a task's folder by name, with its bytes.
std::map<std::string, std::string> files_in(const fs::path& folder) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(folder)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    out[e.path().filename().string()] = bytes.str();
  }
  return out;
}

TEST(randomuser, users_addresses_and_logins_as_csv_with_stable_keys_and_hashed_secrets) {
  std::string why;
  auto upstream = sim_process::start_binary(
      "randomuser-sim",
      {"--seed", "5", "--chaos-percent", "3", "--pause-min", "0", "--pause-max", "1"}, 10s, &why);
  ASSERT_TRUE(upstream) << why;
  output_dir out;
  service_stack stack(
      {.sim_args = {"--chaos-percent", "0"},
       .extra_env = {"ETL_RANDOMUSER_URL=" + upstream->base_url(),
                     "ETL_OUTPUT_DIR=" + out.path.string(), "ETL_HASH_SALT=" + salt}});
  const std::string body =
      R"({"pipeline": "randomuser", "params": {"results": 500, "seed": "etl-test-1", "nat": "CA,NO,GB,NL,IR,UA,US"}})";
  const std::string query =
      "results=500&seed=etl-test-1&page=1&nat=CA%2CNO%2CGB%2CNL%2CIR%2CUA%2CUS";
  std::string first_ids;
  std::map<std::string, std::string> first_files;
  for (int run = 0; run < 2; ++run) {
    const auto id = stack.trigger_json(body);
    ASSERT_FALSE(id.empty());
    const auto t = stack.wait_finished(id, 120s);
    ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
    EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 500) << json::serialize(t);
    // etl-verify reads the seed's page again: each user, address and login once in its CSV.
    EXPECT_EQ(stack.verify(id), 0) << stack.log_tail();
    const auto summary = python_summary(task_folder(out.path, id), upstream->base_url(), query);
    const auto newline = summary.find('\n');
    // 500 users and logins, one key each; no more addresses than users, each user's among them;
    // every password hash as hashlib computes it, no password or id value in clear; CA postcodes as
    // text, NO ones with their leading zeros; numeric coordinates; IR and UA users without an id
    // value.
    const auto facts = summary.substr(0, newline);
    EXPECT_EQ(facts.substr(0, facts.rfind(' ')), "500 500 500 True 500 500 0 True True True")
        << summary;
    EXPECT_NE(facts.substr(facts.rfind(' ') + 1), "0") << summary;
    const auto ids = summary.substr(newline + 1);
    // DuckDB reads the same tables: 500 users, each with its address, and 500 logins.
    const auto duck = duckdb_summary(task_folder(out.path, id));
    EXPECT_TRUE(duck.starts_with("500 ") && duck.ends_with(" 500 500")) << duck;
    // The data-quality checks ran and are on the task: ages and postcodes fit, keys unique.
    const auto& quality = t.at("quality").as_object();
    EXPECT_EQ(num(quality, "records"), 500) << json::serialize(quality);
    EXPECT_EQ(num(quality.at("nulls").as_object(), "postcode"), 0);
    EXPECT_GT(num(quality.at("nulls").as_object(), "id_value_hash"), 0);
    for (const auto& c : quality.at("checks").as_array()) {
      if (c.at("check").as_string() != "unique(email)") {
        EXPECT_TRUE(c.at("passed").as_bool()) << json::serialize(c);
      }
    }
    EXPECT_EQ(quality.at("checks").as_array().size(), 5u);
    const auto files = files_in(task_folder(out.path, id));
    EXPECT_EQ(files.size(), 3u);
    if (run == 0) {
      first_ids = ids;
      first_files = files;
    } else {
      EXPECT_EQ(ids, first_ids) << "the same users got other keys on a second run";
      // The same seed on the same day: the same three files, byte for byte.
      EXPECT_TRUE(files == first_files) << "a second run of the same seed wrote other bytes";
    }
  }
  // The salt never reaches a log line.
  EXPECT_EQ(stack.log_tail().find(salt), std::string::npos);

  // No seed: a new one, recorded on the task so that the run can be repeated.
  const auto id = stack.trigger_json(R"({"pipeline": "randomuser", "params": {"results": 5}})");
  const auto t = stack.wait_finished(id, 60s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto seed = std::string(t.at("params").at("seed").as_string());
  EXPECT_EQ(seed.size(), 16u) << seed;
  EXPECT_EQ(seed.find_first_not_of("0123456789abcdef"), std::string::npos) << seed;
}

// A copy of the shipped spec whose age check no user can pass: the task fails with the check's
// finding, and no file is written.
TEST(randomuser, a_failed_blocking_check_fails_the_task_before_any_file) {
  std::string why;
  auto upstream = sim_process::start_binary("randomuser-sim", {"--seed", "5"}, 10s, &why);
  ASSERT_TRUE(upstream) << why;
  output_dir out;
  const auto specs = out.path / "specs";
  write_spec_copy(specs, "strict", "field: dob_age, min: 0, max: 120",
                  "field: dob_age, min: 0, max: 5");
  service_stack stack(
      {.sim_args = {"--chaos-percent", "0"},
       .extra_env = {"ETL_RANDOMUSER_URL=" + upstream->base_url(),
                     "ETL_OUTPUT_DIR=" + out.path.string(), "ETL_PIPELINES_DIR=" + specs.string(),
                     "ETL_HASH_SALT=" + salt}});
  const auto id = stack.trigger_json(R"({"pipeline": "strict", "params": {"results": 50}})");
  const auto t = stack.wait_finished(id, 60s);
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  EXPECT_NE(json::serialize(t).find("check range(dob_age, 0..5) failed: 50 of 50 records"),
            std::string::npos)
      << json::serialize(t);
  EXPECT_EQ(num(t.at("quality").as_object(), "records"), 50);
  EXPECT_FALSE(fs::exists(task_folder(out.path, id)));
}

// The upstream's quota (here 1,000 users in fixed one-hour windows) spent partway through a task:
// the page refused with 429 after the client's retries waits for the window to reset (a copy of
// the spec waits 5 s, not 300), asks again, waits again; the test moves the simulator's clock to
// the next window once the worker says it waits, and the task succeeds with every user, no
// error recorded.
TEST(randomuser, a_spent_quota_is_waited_out_not_counted_as_a_failure) {
  std::string why;
  auto upstream = sim_process::start_binary(
      "randomuser-sim", {"--seed", "5", "--quota", "1000", "--quota-window", "3600"}, 10s, &why);
  ASSERT_TRUE(upstream) << why;
  output_dir out;
  const auto specs = out.path / "specs";
  write_spec_copy(specs, "quota", "quota_reset_seconds: 300", "quota_reset_seconds: 5");
  service_stack stack(
      {.sim_args = {"--chaos-percent", "0"},
       .extra_env = {"ETL_RANDOMUSER_URL=" + upstream->base_url(),
                     "ETL_OUTPUT_DIR=" + out.path.string(), "ETL_PIPELINES_DIR=" + specs.string(),
                     "ETL_HASH_SALT=" + salt}});
  // Ten pages of 200 (past the 4 pages one quota window allows at 5,000 a page): the seventh
  // is refused. The batch spools its pages, so the wait holds no page but the next.
  const auto id = stack.trigger_json(
      R"({"pipeline": "quota", "params": {"results": 200, "pages": 10, "seed": "quota-1"}})");
  const std::string waiting = "the upstream's quota is spent (429): waiting 5 s";
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (stack.log_tail().find(waiting) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);  // polling the log, not a synchronization
  ASSERT_NE(stack.log_tail().find(waiting), std::string::npos)
      << json::serialize(stack.task(id)) << stack.log_tail();
  EXPECT_EQ(stack.task(id).at("status").as_string(), "running");
  ASSERT_TRUE(http_post(upstream->port(), "/sim/clock", R"({"advance_seconds": 3600})"));
  const auto t = stack.wait_finished(id, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 2000) << json::serialize(t);
  EXPECT_TRUE(t.at("errors").as_array().empty()) << json::serialize(t);
  // DuckDB reads 2,000 users, each with its address, and 2,000 logins.
  const auto duck = duckdb_summary(task_folder(out.path, id));
  EXPECT_TRUE(duck.starts_with("2000 ") && duck.ends_with(" 2000 2000")) << duck;
  const auto report = upstream->report().value().as_object();
  EXPECT_GT(num(report.at("statuses").as_object(), "429"), 0) << json::serialize(report);
}

TEST(randomuser, without_the_salt_the_task_fails_at_once_and_writes_nothing) {
  std::string why;
  auto upstream = sim_process::start_binary("randomuser-sim", {"--seed", "5"}, 10s, &why);
  ASSERT_TRUE(upstream) << why;
  output_dir out;
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_RANDOMUSER_URL=" + upstream->base_url(),
                                     "ETL_OUTPUT_DIR=" + out.path.string(), "ETL_HASH_SALT="}});
  const auto served = json::serialize(upstream->report().value().at("served"));
  const auto id = stack.trigger_json(R"({"pipeline": "randomuser"})");
  const auto t = stack.wait_finished(id, 60s);
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t);
  EXPECT_NE(json::serialize(t).find("ETL_HASH_SALT is not set: pipeline randomuser hashes its "
                                    "secret fields with it, and will not write them in clear"),
            std::string::npos)
      << json::serialize(t);
  EXPECT_FALSE(fs::exists(out.path / "randomuser"));
  // Not one user was read from upstream.
  EXPECT_EQ(json::serialize(upstream->report().value().at("served")), served);
}

}  // namespace
}  // namespace etl::test
