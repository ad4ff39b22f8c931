// The postgres and files sinks through the whole service: a fixture pipeline (specs/
// animal-rows.yaml) reads animals-sim's listing into a Postgres table and into CSV, JSON Lines
// and Parquet files. What they hold is read back by the server through libpq, Python's csv and
// json modules and DuckDB, never by the project's own readers; a worker killed between writing a
// batch's files and committing its record must leave the same output as a clean run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/test/child_process.hpp"
#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// 30 pages of 10 animals, no repeated ids, no chaos: 300 rows, one batch of 1,000 records at most.
constexpr std::int64_t pages = 30;

std::vector<std::string> sim_flags() {
  return {"--seed", "7", "--pages", std::to_string(pages), "--chaos-percent", "0"};
}

struct fixture_dirs {
  fs::path specs = fs::path(source_dir) / "tests/integration/pipeline/specs";
  fs::path output = fs::temp_directory_path() / ("etl-sinks-" + std::to_string(::getpid()));
  fixture_dirs() { fs::remove_all(output); }
  ~fixture_dirs() { fs::remove_all(output); }
  std::vector<std::string> env() const {
    return {"ETL_PIPELINES_DIR=" + specs.string(), "ETL_OUTPUT_DIR=" + output.string()};
  }
};

// Every id the manifest lists, read back from the files by Python: "<csv ids> <jsonl ids>
// <csv rows> <jsonl rows> <bad partitions>", where a bad partition is a JSON Lines record
// whose species is not its folder's.
std::string python_summary(const fs::path& root, const std::vector<std::string>& paths) {
  std::string list;
  for (const auto& p : paths)
    list += " '" + (root / p).string() + "'";
  return command_output(R"(python3 - )" + list + R"( <<'PY'
import csv, json, sys, urllib.parse, os
csv_ids, jsonl_ids, csv_rows, jsonl_rows, bad = set(), set(), 0, 0, 0
for path in sys.argv[1:]:
    if path.endswith('.csv'):
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0].keys()) == ['id', 'name', 'born_at', 'species'], rows[0].keys()
        csv_rows += len(rows)
        csv_ids.update(int(r['id']) for r in rows)
    elif path.endswith('.jsonl'):
        folder = os.path.basename(os.path.dirname(path))
        with open(path, encoding='utf-8') as f:
            for line in f:
                r = json.loads(line)
                jsonl_rows += 1
                jsonl_ids.add(r['id'])
                if folder != 'species=' + urllib.parse.quote(r['species'], safe='._-'):
                    bad += 1
print(len(csv_ids), len(jsonl_ids), csv_rows, jsonl_rows, bad)
PY)");
}

// The Parquet files of the manifest read by DuckDB (tests/parquet/read.mjs): "<rows> <columns>"
// with the columns as DuckDB types them, e.g. "300 id:BIGINT name:VARCHAR born_at:TIMESTAMP
// WITH TIME ZONE" (the same columns in every file, else "columns differ").
std::string duckdb_summary(const fs::path& root, const std::vector<std::string>& paths) {
  const auto reader = fs::path(source_dir) / "tests/parquet/read.mjs";
  std::int64_t rows = 0;
  std::string columns;
  for (const auto& p : paths) {
    if (!p.ends_with(".parquet"))
      continue;
    const auto out =
        command_output("node '" + reader.string() + "' duckdb '" + (root / p).string() + "'");
    std::istringstream lines(out);
    std::string line, first, last;
    while (std::getline(lines, line)) {
      if (first.empty())
        first = line;
      last = line;
    }
    if (first.empty())
      return "no output for " + p;
    std::string these;
    const auto head = json::parse(first);  // kept: a loop over a temporary's member dangles
    for (const auto& c : head.at("columns").as_array())
      these += std::string(these.empty() ? "" : " ") + std::string(c.at("name").as_string()) + ":" +
               std::string(c.at("type").as_string());
    if (!columns.empty() && these != columns)
      return "columns differ";
    columns = these;
    rows += json::parse(last).at("rows").as_int64();
  }
  return std::to_string(rows) + " " + columns;
}

std::vector<std::string> manifest(service_stack& stack, const std::string& task_id) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  std::vector<std::string> paths;
  for (const auto& row :
       tx.exec_params("SELECT path FROM output_files WHERE task_id = $1 ORDER BY path", task_id))
    paths.push_back(row[0].as<std::string>());
  return paths;
}

std::int64_t scalar(service_stack& stack, const std::string& sql) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  return tx.exec1(sql)[0].as<std::int64_t>();
}

// The task's per-sink counts (its `sinks`) against the table and the manifest: each sink took
// every row once, and a files sink counts the files the manifest lists under its folder.
void expect_sink_counts(const json::object& t, const std::vector<std::string>& files) {
  ASSERT_TRUE(t.contains("sinks")) << json::serialize(t);
  const auto& sinks = t.at("sinks").as_array();
  ASSERT_EQ(sinks.size(), 4u) << json::serialize(sinks);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"postgres", "fixture.animal_rows"},
      {"files", "fixture/animal_rows"},
      {"files", "fixture/animal_rows_by_name"},
      {"files", "fixture/animal_rows_parquet"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& s = sinks[i].as_object();
    EXPECT_EQ(s.at("kind").as_string(), expected[i].first) << json::serialize(s);
    EXPECT_EQ(s.at("target").as_string(), expected[i].second) << json::serialize(s);
    EXPECT_EQ(num(s, "rows"), pages * 10) << json::serialize(s);
    if (expected[i].first == "files") {
      const auto folder = expected[i].second + "/";
      const auto listed = std::count_if(files.begin(), files.end(), [&](const std::string& p) {
        return p.starts_with(folder) && p.find('/', folder.size()) == std::string::npos;
      });
      const auto partitioned = std::count_if(files.begin(), files.end(), [&](const std::string& p) {
        return p.starts_with(folder + "species=");
      });
      EXPECT_EQ(num(s, "files"), listed + partitioned) << json::serialize(s);
    } else {
      EXPECT_FALSE(s.contains("files")) << json::serialize(s);
    }
  }
}

// Files under `root` that the manifest does not list (temporaries included).
std::vector<std::string> unlisted(const fs::path& root, const std::vector<std::string>& listed) {
  const std::set<std::string> known(listed.begin(), listed.end());
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) {
      const auto rel = fs::relative(e.path(), root).generic_string();
      if (!known.contains(rel))
        out.push_back(rel);
    }
  }
  return out;
}

TEST(sinks, a_pipeline_fills_its_table_and_files_once_each) {
  fixture_dirs dirs;
  service_stack stack({.sim_args = sim_flags(), .extra_env = dirs.env()});
  const auto id = stack.trigger_json(R"({"pipeline": "animal-rows", "params": {"label": "a"}})");
  ASSERT_FALSE(id.empty());
  const auto t = stack.wait_finished(id, 60s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_EQ(t.at("pipeline").as_string(), "animal-rows");
  EXPECT_EQ(t.at("params").at("label").as_string(), "a");
  const auto& counts = t.at("counts").as_object();
  EXPECT_EQ(num(counts, "fetched"), pages * 10);
  EXPECT_EQ(num(counts, "posted"), pages * 10);
  EXPECT_EQ(num(counts, "rejected"), 0);

  EXPECT_EQ(scalar(stack, "SELECT count(*) FROM fixture.animal_rows"), pages * 10);
  EXPECT_EQ(scalar(stack, "SELECT count(DISTINCT id) FROM fixture.animal_rows"), pages * 10);
  EXPECT_EQ(scalar(stack, "SELECT min(id) FROM fixture.animal_rows"), 0);
  EXPECT_EQ(scalar(stack, "SELECT max(id) FROM fixture.animal_rows"), pages * 10 - 1);

  const auto files = manifest(stack, id);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(python_summary(dirs.output, files), "300 300 300 300 0\n");
  EXPECT_EQ(duckdb_summary(dirs.output, files),
            "300 id:BIGINT name:VARCHAR born_at:TIMESTAMP WITH TIME ZONE");
  EXPECT_TRUE(unlisted(dirs.output, files).empty());
  expect_sink_counts(t, files);

  // etl-verify reads the listing again and finds every row once in each sink; then one row
  // gone from the table and one line repeated in a CSV file are each found.
  EXPECT_EQ(stack.verify(id), 0) << stack.log_tail();
  {
    pqxx::connection c(stack.database_url());
    pqxx::work tx(c);
    tx.exec("DELETE FROM fixture.animal_rows WHERE id = 7");
    tx.commit();
  }
  EXPECT_EQ(stack.verify(id), 1);
  EXPECT_NE(stack.log_tail().find("missing 7"), std::string::npos) << stack.log_tail();
  const auto csv = std::find_if(files.begin(), files.end(), [](const std::string& p) {
    return p.starts_with("fixture/animal_rows/") && p.ends_with(".csv");
  });
  ASSERT_NE(csv, files.end());
  std::string header, first;
  {
    std::ifstream in(dirs.output / *csv);
    std::getline(in, header);
    std::getline(in, first);
  }
  std::ofstream(dirs.output / *csv, std::ios::app) << first << "\n";
  EXPECT_EQ(stack.verify(id), 1);
  EXPECT_NE(stack.log_tail().find("duplicated " + first.substr(0, first.find(','))),
            std::string::npos)
      << stack.log_tail();
}

TEST(sinks, a_worker_killed_before_the_commit_leaves_the_output_of_a_clean_run) {
  fixture_dirs dirs;
  auto env = dirs.env();
  // Every batch job's first delivery ends its worker process after the files are written and
  // before the transaction that records the batch; the redelivery completes it.
  env.push_back("ETL_TEST_FAILPOINT=pipeline_batch.before_commit");
  service_stack stack({.sim_args = sim_flags(), .extra_env = env});
  const auto id = stack.trigger_json(R"({"pipeline": "animal-rows"})");
  ASSERT_FALSE(id.empty());
  const auto t = stack.wait_finished(id, 90s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_NE(stack.log_tail().find("failpoint pipeline_batch.before_commit"), std::string::npos)
      << "the failpoint never fired: the test proves nothing";
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), pages * 10);
  EXPECT_EQ(scalar(stack, "SELECT count(*) FROM fixture.animal_rows"), pages * 10);
  const auto files = manifest(stack, id);
  EXPECT_EQ(python_summary(dirs.output, files), "300 300 300 300 0\n");
  EXPECT_EQ(duckdb_summary(dirs.output, files),
            "300 id:BIGINT name:VARCHAR born_at:TIMESTAMP WITH TIME ZONE");
  EXPECT_TRUE(unlisted(dirs.output, files).empty());
  expect_sink_counts(t, files);
  EXPECT_EQ(stack.verify(id), 0) << stack.log_tail();
}

TEST(sinks, the_sweep_removes_old_unlisted_files_and_nothing_else) {
  fixture_dirs dirs;
  service_stack stack({.sim_args = sim_flags(), .extra_env = dirs.env()});
  const auto id = stack.trigger_json(R"({"pipeline": "animal-rows"})");
  const auto t = stack.wait_finished(id, 60s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  const auto files = manifest(stack, id);
  // What a worker that died before its commit leaves, an hour old: a batch's file and a
  // temporary; a file of the same kind written just now (a running batch's, maybe); and a file
  // that is no sink's output.
  const auto make = [&](const std::string& rel, bool old) {
    const auto path = dirs.output / rel;
    std::ofstream(path) << "id,name,born_at,species\r\n";
    if (old)
      fs::last_write_time(path, fs::last_write_time(path) - std::chrono::hours(1));
  };
  make("fixture/animal_rows/00000000-0000-0000-0000-000000000000-0.csv", true);
  make("fixture/animal_rows_parquet/.x-0.parquet.tmp-4242", true);
  make("fixture/animal_rows/00000000-0000-0000-0000-000000000000-1.csv", false);
  make("fixture/animal_rows/README.txt", true);

  EXPECT_EQ(stack.run_to_end("etl-server", {"--sweep", "nope"}), 2);
  ASSERT_EQ(stack.run_to_end("etl-server", {"--sweep", "animal-rows"}), 0) << stack.log_tail();
  EXPECT_FALSE(
      fs::exists(dirs.output / "fixture/animal_rows/00000000-0000-0000-0000-000000000000-0.csv"));
  EXPECT_FALSE(fs::exists(dirs.output / "fixture/animal_rows_parquet/.x-0.parquet.tmp-4242"));
  EXPECT_TRUE(
      fs::exists(dirs.output / "fixture/animal_rows/00000000-0000-0000-0000-000000000000-1.csv"));
  EXPECT_TRUE(fs::exists(dirs.output / "fixture/animal_rows/README.txt"));
  // Every listed file is where it was, and reads as before.
  EXPECT_EQ(python_summary(dirs.output, files), "300 300 300 300 0\n");
  EXPECT_EQ(duckdb_summary(dirs.output, files),
            "300 id:BIGINT name:VARCHAR born_at:TIMESTAMP WITH TIME ZONE");
  const auto left = unlisted(dirs.output, files);
  EXPECT_EQ(left.size(), 2u) << json::serialize(json::value_from(left));
}

TEST(sinks, a_bad_parameter_or_pipeline_is_refused_before_a_task_exists) {
  fixture_dirs dirs;
  service_stack stack({.sim_args = sim_flags(), .extra_env = dirs.env(), .start_worker = false});
  auto unknown = http_post(stack.port(), "/extractor/trigger-task", R"({"pipeline": "nope"})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  EXPECT_NE(unknown->body.find("animal-rows"), std::string::npos) << unknown->body;
  auto param = http_post(stack.port(), "/extractor/trigger-task",
                         R"({"pipeline": "animal-rows", "params": {"labl": "x"}})");
  ASSERT_TRUE(param);
  EXPECT_EQ(param->status, 400) << param->body;
  EXPECT_NE(param->body.find("unknown parameter 'labl' for pipeline animal-rows"),
            std::string::npos)
      << param->body;
  EXPECT_EQ(scalar(stack, "SELECT count(*) FROM tasks"), 0);
}

}  // namespace
}  // namespace etl::test
