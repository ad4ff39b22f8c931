// The shipped spacex-launches pipeline against spacex-sim with chaos: a backfill of the whole
// history in day windows loads every launch once and one row per core (Postgres through libpq,
// Parquet through DuckDB, raw pages through Python), each row in its own day's partition; a
// window run again replaces its partitions instead of adding to them; the whole range run again
// with a worker SIGKILLed halfway changes nothing; a window holds only its own launches; an empty
// window succeeds;
// a window that ends before it starts is refused. The SQL of docs/spacex.md runs on the result.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
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

// The default dataset (the real one's shape): 205 launches, 215 core entries of which 19 have
// no core (all upcoming).
constexpr std::int64_t launches = 205;
constexpr std::int64_t cores = 196;

struct output_dir {
  fs::path path = fs::temp_directory_path() / ("etl-spacex-" + std::to_string(::getpid()));
  output_dir() { fs::remove_all(path); }
  ~output_dir() { fs::remove_all(path); }
};

// One row of a DuckDB query (tests/parquet/read.mjs sql) as a JSON object.
json::object duckdb_row(const std::string& query) {
  const auto reader = fs::path(source_dir) / "tests/parquet/read.mjs";
  const auto out = command_output("node '" + reader.string() + "' sql \"" + query + "\"");
  std::istringstream lines(out);
  std::string first;
  std::getline(lines, first);
  if (first.empty())
    return {};
  return json::parse(first).as_object();
}

// "<rows> <distinct keys> <rows outside their partition folder>" of Parquet files: `source` is
// a glob or a DuckDB list of paths.
std::string parquet_summary_of(const std::string& source, const std::string& key) {
  const auto row = duckdb_row(
      // INTEGER: DuckDB writes a BIGINT into JSON as text.
      "SELECT count(*)::INTEGER AS n, count(DISTINCT " + key + ")::INTEGER AS k, count(*) FILTER " +
      "(WHERE filename NOT LIKE '%/p_creation_date=' || strftime(p_creation_date, '%Y-%m-%d') || " +
      "'/%')::INTEGER AS bad FROM read_parquet(" + source +
      ", filename = true, hive_partitioning = false)");
  if (row.empty())
    return "no answer";
  return std::to_string(num(row, "n")) + " " + std::to_string(num(row, "k")) + " " +
         std::to_string(num(row, "bad"));
}

// The same over every file of a table's folder.
std::string parquet_summary(const fs::path& table, const std::string& key) {
  return parquet_summary_of("'" + (table / "*" / "*.parquet").string() + "'", key);
}

// The same over the files the manifest lists under `folder` (a crash can leave files that are
// not listed: readers of the manifest never see them).
std::string listed_parquet_summary(service_stack& stack, const fs::path& root,
                                   const std::string& folder, const std::string& key) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  std::string list;
  for (const auto& row : tx.exec_params(
           "SELECT path FROM output_files WHERE path LIKE $1 || '/%' ORDER BY path", folder))
    list += (list.empty() ? "['" : ", '") + (root / row[0].as<std::string>()).string() + "'";
  return parquet_summary_of(list + "]", key);
}

std::int64_t files_under(const fs::path& dir) {
  std::int64_t n = 0;
  if (fs::exists(dir)) {
    for (const auto& e : fs::recursive_directory_iterator(dir))
      n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

std::string backfill(service_stack& stack, const std::string& start, const std::string& end) {
  return stack.trigger_json(R"({"pipeline": "spacex-launches", "params": {"start_date": ")" +
                            start + R"(", "end_date": ")" + end + R"("}})");
}

TEST(spacex_launches, a_backfill_loads_each_launch_once_and_a_rerun_replaces_its_partitions) {
  std::string why;
  // Chaos: 3% of requests get a 5xx or a pause of up to a second before their answer.
  auto spacex = sim_process::start_binary(
      "spacex-sim", {"--seed", "7", "--chaos-percent", "3", "--pause-min", "0", "--pause-max", "1"},
      10s, &why);
  ASSERT_TRUE(spacex) << why;
  output_dir out;
  service_stack stack({.sim_args = {"--chaos-percent", "0"},
                       .extra_env = {"ETL_SPACEX_URL=" + spacex->base_url(),
                                     "ETL_OUTPUT_DIR=" + out.path.string()}});

  // The whole history, 2006-03-01 .. 2022-12-05 inclusive: 6,124 day windows.
  const auto id = backfill(stack, "2006-03-01", "2022-12-06");
  ASSERT_FALSE(id.empty());
  auto t = stack.wait_finished(id, 600s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  const auto& counts = t.at("counts").as_object();
  EXPECT_EQ(num(counts, "posted"), launches) << json::serialize(t);
  EXPECT_EQ(num(counts, "rejected"), 0) << json::serialize(t);
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 6124);
  const auto served = spacex->report().value().at("served").as_object();
  EXPECT_EQ(num(served.at("launches").as_object(), "distinct"), launches);

  {
    pqxx::connection c(stack.database_url());
    pqxx::read_transaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.launches")[0].as<int>(), launches);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.cores")[0].as<int>(), cores);
    // The instant as an instant, the local time with its offset as written.
    const auto first = tx.exec1(
        "SELECT to_char(date_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), date_local, "
        "p_creation_date::text FROM spacex.launches ORDER BY date_utc LIMIT 1");
    EXPECT_EQ(first[0].as<std::string>(), "2006-03-24 22:30");
    EXPECT_EQ(first[1].as<std::string>(), "2006-03-25T10:30:00+12:00");
    EXPECT_EQ(first[2].as<std::string>(), "2006-03-24");
    // Every row's partition day is its launch's UTC day.
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.launches WHERE p_creation_date <> "
                       "(date_utc AT TIME ZONE 'UTC')::date")[0]
                  .as<int>(),
              0);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.cores c LEFT JOIN spacex.launches l USING "
                       "(launch_id) WHERE l.launch_id IS NULL OR l.p_creation_date <> "
                       "c.p_creation_date")[0]
                  .as<int>(),
              0);
  }
  const auto launches_dir = out.path / "spacex/launches";
  const auto cores_dir = out.path / "spacex/cores";
  EXPECT_EQ(parquet_summary(launches_dir, "launch_id"), "205 205 0");
  EXPECT_EQ(parquet_summary(cores_dir, "core_id || launch_id"), "196 196 0");

  // The raw answers: one file per window, one line per page, every launch in them once.
  const auto raw = command_output(R"(python3 - ')" + (out.path / "spacex/raw").string() +
                                  R"(' <<'PY'
import json, os, sys
files = lines = 0
ids = []
for name in os.listdir(sys.argv[1]):
    files += 1
    with open(os.path.join(sys.argv[1], name), encoding='utf-8') as f:
        for line in f:
            lines += 1
            ids += [d['id'] for d in json.loads(line)['docs']]
print(files, lines >= files, len(ids), len(set(ids)))
PY)");
  EXPECT_EQ(raw, "6124 True 205 205\n");

  // November 2022 again (launches sharing a date_utc, upcoming ones): its partitions replaced.
  const auto before = files_under(launches_dir) + files_under(cores_dir);
  const auto again = backfill(stack, "2022-11-01", "2022-12-06");
  ASSERT_FALSE(again.empty());
  t = stack.wait_finished(again, 120s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_GT(num(t.at("counts").as_object(), "posted"), 10);
  EXPECT_EQ(parquet_summary(launches_dir, "launch_id"), "205 205 0");
  EXPECT_EQ(parquet_summary(cores_dir, "core_id || launch_id"), "196 196 0");
  EXPECT_EQ(files_under(launches_dir) + files_under(cores_dir), before);
  {
    pqxx::connection c(stack.database_url());
    pqxx::read_transaction tx(c);
    // The manifest lists each partition of a sink once, and only files that exist.
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM (SELECT sink, partition FROM output_files WHERE "
                       "partition IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d")[0]
                  .as<int>(),
              0);
    EXPECT_EQ(
        tx.exec1("SELECT count(*) FROM output_files WHERE partition IS NOT NULL")[0].as<int>(),
        before);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.launches")[0].as<int>(), launches);
  }

  // The whole range again, a worker SIGKILLed halfway: the same rows, nothing twice.
  const auto whole = backfill(stack, "2006-03-01", "2022-12-06");
  stack.wait_task(whole, 300s, [](const json::object& task) {
    return num(task.at("batches").as_object(), "done") >= 2000;
  });
  auto children = children_of(stack.worker().pid());
  ASSERT_FALSE(children.empty());
  ASSERT_EQ(::kill(children.front(), SIGKILL), 0);
  t = stack.wait_finished(whole, 600s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), launches);
  EXPECT_EQ(listed_parquet_summary(stack, out.path, "spacex/launches", "launch_id"), "205 205 0");
  EXPECT_EQ(listed_parquet_summary(stack, out.path, "spacex/cores", "core_id || launch_id"),
            "196 196 0");
  {
    pqxx::connection c(stack.database_url());
    pqxx::read_transaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.launches")[0].as<int>(), launches);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM spacex.cores")[0].as<int>(), cores);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM (SELECT sink, partition FROM output_files WHERE "
                       "partition IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d")[0]
                  .as<int>(),
              0);
  }

  // A window holds what lies in it and nothing else: 2020-01-01..2020-06-01 has 8 launches.
  const auto spring = backfill(stack, "2020-01-01", "2020-06-01");
  t = stack.wait_finished(spring, 120s);
  EXPECT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 8);

  // A window without launches (none flew in 2011) succeeds with nothing to deliver.
  const auto empty = backfill(stack, "2011-01-01", "2011-02-01");
  t = stack.wait_finished(empty, 120s);
  EXPECT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 0);

  // An end that is not after the start is refused before a task exists.
  auto r = http_post(stack.port(), "/extractor/trigger-task",
                     R"({"pipeline": "spacex-launches", "params": {"start_date": "2020-02-01",
                         "end_date": "2020-01-01"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("end_date must be after start_date"), std::string::npos) << r->body;

  // docs/spacex.md: each ```sql block runs against the loaded tables and answers.
  std::ifstream doc(fs::path(source_dir) / "docs/spacex.md");
  std::stringstream text;
  text << doc.rdbuf();
  const std::string md = text.str();
  const std::regex block("```sql\n([^`]*)```");
  pqxx::connection c(stack.database_url());
  int blocks = 0;
  for (auto it = std::sregex_iterator(md.begin(), md.end(), block); it != std::sregex_iterator();
       ++it, ++blocks) {
    pqxx::read_transaction tx(c);
    const auto rows = tx.exec((*it)[1].str());
    EXPECT_GT(rows.size(), 0u) << (*it)[1].str();
    if (blocks == 0) {  // launches per year: the whole history, none in 2011, 62 in 2022
      std::int64_t sum = 0, in_2022 = 0;
      for (const auto& row : rows) {
        sum += row[1].as<std::int64_t>();
        EXPECT_NE(row[0].as<int>(), 2011);
        if (row[0].as<int>() == 2022)
          in_2022 = row[1].as<std::int64_t>();
      }
      EXPECT_EQ(sum, launches);
      EXPECT_EQ(in_2022, 62);
    }
    if (blocks == 2) {  // the most reused core: in spacex-sim's data of seed 7, 8 flights
      EXPECT_EQ(rows[0][1].as<int>(), 8) << rows[0][0].as<std::string>();
    }
  }
  EXPECT_EQ(blocks, 3);
}

}  // namespace
}  // namespace etl::test
