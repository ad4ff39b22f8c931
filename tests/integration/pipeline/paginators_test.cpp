// The offset and next_link paginators through the whole service. Offset: spacex-sim's launches
// query read by {offset} and {limit} in the JSON body, planned up front from `totalDocs` and,
// without it, as a chain of batches. Next link: an upstream (fixtures/link_upstream.py) whose
// answers link to the next page; a link back to an earlier page fails the task as a loop, and a
// link to another host fails it before that host is asked. Every record is read back from the
// JSON Lines files by Python and counted against what the upstream served; the task's per-sink
// counts agree with the manifest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

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

constexpr std::int64_t launches = 205;  // spacex-sim's default dataset

struct fixture_dirs {
  fs::path root = fs::temp_directory_path() / ("etl-paginators-" + std::to_string(::getpid()));
  fs::path specs = root / "specs";
  fs::path output = root / "output";
  fixture_dirs() {
    fs::remove_all(root);
    fs::create_directories(specs);
  }
  explicit fixture_dirs(const std::string& spec_name, const std::string& text) : fixture_dirs() {
    write(spec_name, text);
  }
  ~fixture_dirs() { fs::remove_all(root); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(specs / (name + ".yaml")) << text;
  }
  std::vector<std::string> env(const std::string& url_var, const std::string& url) const {
    return {"ETL_PIPELINES_DIR=" + specs.string(), "ETL_OUTPUT_DIR=" + output.string(),
            url_var + "=" + url};
  }
};

// A files sink of JSON Lines under `name`/, one file a batch.
std::string launches_spec(const std::string& name, const std::string& paginator) {
  return "name: " + name + R"(
description: SpaceX launches read by offset (paginators test).
source:
  kind: rest
  base_url: {env: PAGINATED_URL}
  method: POST
  path: /v5/launches/query
  body: {query: {}, options: {offset: "{offset}", limit: "{limit}", sort: {date_utc: asc, _id: asc}}}
  records: docs
  key: id
  paginator: )" +
         paginator +
         R"(
transform:
  fields:
    id: {type: string}
    name: {type: string}
sinks:
  - {kind: files, format: jsonl, folder: )" +
         name + "}\n";
}

const std::string linked_spec = R"(name: linked
description: Items read by next links (paginators test).
source:
  kind: rest
  base_url: {env: PAGINATED_URL}
  path: /items
  records: data
  key: id
  paginator: {kind: next_link, next: links.next, pages_per_batch: 3}
transform:
  fields:
    id: {type: int}
sinks:
  - {kind: files, format: jsonl, folder: linked}
)";

// "<records> <distinct ids>" of the task's JSON Lines files as the manifest lists them, read by
// Python.
std::string jsonl_summary(service_stack& stack, const fs::path& root, const std::string& task) {
  pqxx::connection c(stack.database_url());
  pqxx::read_transaction tx(c);
  std::string list;
  for (const auto& row :
       tx.exec_params("SELECT path FROM output_files WHERE task_id = $1 ORDER BY path", task))
    list += " '" + (root / row[0].as<std::string>()).string() + "'";
  return command_output("python3 - " + list + R"( <<'PY'
import json, sys
ids = []
for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
        ids += [json.loads(line)['id'] for line in f]
print(len(ids), len(set(ids)))
PY)");
}

// The task's one files sink: its rows and files.
std::pair<std::int64_t, std::int64_t> sink_counts(const json::object& t) {
  if (!t.contains("sinks") || t.at("sinks").as_array().size() != 1)
    return {-1, -1};
  const auto& s = t.at("sinks").at(0).as_object();
  return {num(s, "rows"), num(s, "files")};
}

// A link upstream in `mode` (ok, loop, elsewhere), stopped with the test.
struct link_upstream {
  child_process process;
  std::uint16_t port = 9;

  explicit link_upstream(const std::string& mode)
      : process(std::move(*child_process::start(
            "/usr/bin/python3",
            {(fs::path(source_dir) / "tests/integration/pipeline/fixtures/link_upstream.py")
                 .string(),
             "--mode", mode}))) {
    const auto line = process.wait_for_line("listening 127.0.0.1:", 10s);
    EXPECT_TRUE(line) << "link_upstream.py did not start";
    if (line)
      port = static_cast<std::uint16_t>(std::stoi(line->substr(20)));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  // The pages it served.
  std::int64_t requests() const {
    auto got = http_get(port, "/sim/report");
    if (!got || got->status != 200)
      return -1;
    return num(json::parse(got->body).as_object(), "requests");
  }
};

// A task of the `linked` fixture pipeline against a link upstream in `mode`, run to its end.
struct linked_run {
  link_upstream upstream;
  fixture_dirs dirs;
  service_stack stack;
  std::string id;
  json::object task;

  explicit linked_run(const std::string& mode, const std::string& spec = linked_spec)
      : upstream(mode),
        dirs("linked", spec),
        stack({.sim_args = {"--chaos-percent", "0"},
               .extra_env = dirs.env("PAGINATED_URL", upstream.url())}) {
    id = stack.trigger_json(R"({"pipeline": "linked"})");
    task = stack.wait_finished(id, 60s);
  }
};

// A task of the offset pipeline `name` (launches_spec with `paginator`) against spacex-sim with
// 3% chaos, run to its end. `spacex` holds why the simulator did not start, if it did not.
struct offset_run {
  std::string why;
  result<sim_process> spacex;
  fixture_dirs dirs;
  std::optional<service_stack> stack;
  std::string id;
  json::object task;

  offset_run(const std::string& name, const std::string& paginator)
      : spacex(sim_process::start_binary("spacex-sim", {"--seed", "7", "--chaos-percent", "3"}, 10s,
                                         &why)) {
    if (!spacex)
      return;
    dirs.write(name, launches_spec(name, paginator));
    stack.emplace(
        service_stack_options{.sim_args = {"--chaos-percent", "0"},
                              .extra_env = dirs.env("PAGINATED_URL", spacex->base_url())});
    id = stack->trigger_json(R"({"pipeline": ")" + name + R"("})");
    task = stack->wait_finished(id, 120s);
  }
};

TEST(paginated_sources, an_offset_source_with_a_total_is_planned_up_front) {
  offset_run run("by-offset", "{kind: offset, page_size: 20, total_records: totalDocs}");
  ASSERT_TRUE(run.spacex) << run.why;
  auto& [why, spacex, dirs, stack, id, t] = run;
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack->log_tail();
  // 205 launches in pages of 20: 11 pages, planned from the first answer's totalDocs.
  EXPECT_EQ(num(t, "total_pages"), 11) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), launches);
  EXPECT_EQ(jsonl_summary(*stack, dirs.output, id), "205 205\n");
  EXPECT_EQ(sink_counts(t).first, launches) << json::serialize(t);
}

TEST(paginated_sources, an_offset_source_without_a_total_chains_until_a_short_page) {
  offset_run run("offset-chain", "{kind: offset, page_size: 20, pages_per_batch: 3}");
  ASSERT_TRUE(run.spacex) << run.why;
  auto& [why, spacex, dirs, stack, id, t] = run;
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack->log_tail();
  // 11 pages, 3 a batch: 4 batches, each added by the one before.
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 4) << json::serialize(t);
  EXPECT_EQ(num(t.at("counts").as_object(), "pages"), 11) << json::serialize(t);
  EXPECT_EQ(jsonl_summary(*stack, dirs.output, id), "205 205\n");
  EXPECT_EQ(sink_counts(t), std::make_pair(launches, std::int64_t{4})) << json::serialize(t);
  EXPECT_EQ(stack->verify(id), 0) << stack->log_tail();
}

TEST(paginated_sources, max_pages_ends_a_chain_across_its_batches) {
  offset_run run("offset-most", "{kind: offset, page_size: 20, pages_per_batch: 3, max_pages: 7}");
  ASSERT_TRUE(run.spacex) << run.why;
  auto& [why, spacex, dirs, stack, id, t] = run;
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack->log_tail();
  // 7 pages of 20 of the 11 there are: batches of 3, 3 and 1.
  EXPECT_EQ(num(t.at("counts").as_object(), "pages"), 7) << json::serialize(t);
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 3) << json::serialize(t);
  EXPECT_EQ(jsonl_summary(*stack, dirs.output, id), "140 140\n");
}

TEST(paginated_sources, next_links_are_followed_batch_after_batch_to_the_last_page) {
  linked_run run("ok");
  auto& [upstream, dirs, stack, id, t] = run;
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  // 95 items, 10 a page: 10 pages, 3 a batch: 4 batches.
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 95);
  EXPECT_EQ(num(t.at("counts").as_object(), "pages"), 10);
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 4) << json::serialize(t);
  EXPECT_EQ(jsonl_summary(stack, dirs.output, id), "95 95\n");
  EXPECT_EQ(sink_counts(t), std::make_pair(std::int64_t{95}, std::int64_t{4}))
      << json::serialize(t);
  EXPECT_EQ(upstream.requests(), 10);
  EXPECT_EQ(stack.verify(id), 0) << stack.log_tail();
}

TEST(paginated_sources, a_has_more_of_false_ends_the_chain_though_links_go_on) {
  std::string spec = linked_spec;
  spec.replace(spec.find("pages_per_batch: 3}"), 19, "pages_per_batch: 3, has_more: more}");
  linked_run run("stop", spec);
  auto& [upstream, dirs, stack, id, t] = run;
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t) << stack.log_tail();
  // "more" is false on the page read at after=50, the sixth: 60 items in 2 batches.
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 60) << json::serialize(t);
  EXPECT_EQ(num(t.at("batches").as_object(), "total"), 2) << json::serialize(t);
  EXPECT_EQ(upstream.requests(), 6);
}

TEST(paginated_sources, a_next_link_back_to_an_earlier_page_fails_the_task_as_a_loop) {
  linked_run run("loop");
  auto& [upstream, dirs, stack, id, t] = run;
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t) << stack.log_tail();
  EXPECT_NE(json::serialize(t.at("errors")).find("next-link loop: the upstream links to "),
            std::string::npos)
      << json::serialize(t);
  // Bounded: the loop is caught within a cycle, not followed for ever.
  EXPECT_LE(upstream.requests(), 20);
}

TEST(paginated_sources, a_next_link_to_another_host_fails_the_task_without_asking_it) {
  linked_run run("elsewhere");
  auto& [upstream, dirs, stack, id, t] = run;
  ASSERT_EQ(t.at("status").as_string(), "failed") << json::serialize(t) << stack.log_tail();
  EXPECT_NE(json::serialize(t.at("errors")).find("is not on the source's origin"),
            std::string::npos)
      << json::serialize(t);
  // Pages up to the one holding the bad link (after=50: the sixth), once each: no retry.
  EXPECT_EQ(upstream.requests(), 6);
}

}  // namespace
}  // namespace etl::test
