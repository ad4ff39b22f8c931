// The dashboard at GET /: its files over HTTP (types, no-cache, a strict CSP, no inline script),
// then the page in a real browser, Debian's chromium driven by playwright-core
// (tests/browser/dashboard.mjs): a task started from the page reaches 100% and its counts show;
// with ETL_API_TOKEN set, the page asks for the token and then works. A machine without chromium,
// node or tests/browser/node_modules fails the browser tests, saying what to install.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "etl/test/child_process.hpp"
#include "etl/test/http.hpp"
#include "etl/test/service_stack.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path browser_dir = fs::path(source_dir) / "tests" / "browser";
const fs::path chromium = "/usr/bin/chromium";

// `name` found in one of PATH's folders, or empty.
fs::path find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    std::error_code ec;
    const auto candidate = fs::path(dir) / name;
    if (!dir.empty() && fs::is_regular_file(candidate, ec))
      return candidate;
  }
  return {};
}

// What the browser test needs on this machine; the first thing missing, said as what to do.
std::string browser_test_missing() {
  if (!fs::exists(chromium))
    return chromium.string() + " is missing: run scripts/install-deps.sh (apt package chromium)";
  if (find_in_path("node").empty())
    return "node is missing: run scripts/install-deps.sh (apt packages nodejs, npm)";
  if (!fs::exists(browser_dir / "node_modules" / "playwright-core"))
    return "tests/browser/node_modules is missing: run `npm ci --prefix tests/browser` "
           "(scripts/test.sh does it)";
  return {};
}

struct browser_run {
  int exit_code = -1;
  std::string output;
  std::string task_id;  // from the script's "task_id=" line
};

// Runs tests/browser/dashboard.mjs against the stack; bounded by the script's own watchdog and
// by a deadline here.
browser_run run_browser(service_stack& stack, const fs::path& screenshot,
                        const std::string& token = {}, int older = 0) {
  std::vector<std::string> args = {
      find_in_path("node").string(), (browser_dir / "dashboard.mjs").string(),
      "http://127.0.0.1:" + std::to_string(stack.port()), screenshot.string()};
  if (!token.empty()) {
    args.push_back("--token");
    args.push_back(token);
  }
  if (older > 0) {
    args.push_back("--older");
    args.push_back(std::to_string(older));
  }
  child_options o;
  o.merge_stderr = true;
  auto node = child_process::start(args[0], {args.begin() + 1, args.end()}, o);
  browser_run run;
  if (!node) {
    run.output = "cannot start node: " + node.error().message();
    return run;
  }
  node->read_until_eof(180s);
  run.exit_code = node->wait(10s).value_or(-1);
  run.output = node->output();
  if (const auto at = run.output.find("task_id="); at != std::string::npos)
    run.task_id = run.output.substr(at + 8, 36);
  return run;
}

fs::path screenshot_path(const std::string& name) {
  const auto dir = fs::path(bin_dir).parent_path() / "tests";
  fs::create_directories(dir);
  const auto p = dir / name;
  std::error_code ec;
  fs::remove(p, ec);
  return p;
}

std::int64_t num(const json::object& o, std::string_view key) {
  return o.at(key).to_number<std::int64_t>();
}

TEST(dashboard, serves_its_files_with_their_types_no_cache_and_a_strict_csp) {
  service_stack_options opts;
  opts.start_worker = false;
  service_stack stack(opts);
  struct file {
    const char* path;
    const char* type;
    const char* must_hold;
  };
  for (const auto& f :
       {file{"/", "text/html; charset=utf-8", "<script src=\"/dashboard/app.js\""},
        file{"/dashboard/app.js", "text/javascript; charset=utf-8", "sessionStorage"},
        file{"/dashboard/style.css", "text/css; charset=utf-8", ".bar-fill"}}) {
    auto r = http_get(stack.port(), f.path);
    ASSERT_TRUE(r) << f.path << ": " << r.error().message();
    EXPECT_EQ(r->status, 200) << f.path;
    EXPECT_EQ(r->header("content-type"), f.type) << f.path;
    EXPECT_EQ(r->header("cache-control"), "no-cache") << f.path;
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff") << f.path;
    const auto csp = r->header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_NE(r->body.find(f.must_hold), std::string::npos) << f.path;
  }
  // The page's only script is its own file; the script never parses data as HTML.
  const auto page = http_get(stack.port(), "/").value().body;
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  const auto script = http_get(stack.port(), "/dashboard/app.js").value().body;
  EXPECT_EQ(script.find("innerHTML"), std::string::npos);

  auto post = http_post(stack.port(), "/", "");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405) << post->body;
  EXPECT_EQ(post->header("allow"), "GET");
  auto missing = http_get(stack.port(), "/dashboard/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
}

TEST(dashboard, in_chromium_a_task_started_from_the_page_reaches_100_percent) {
  if (const auto missing = browser_test_missing(); !missing.empty())
    FAIL() << missing;
  service_stack stack(
      {.sim_args = {"--verify", "--seed", "31", "--pages", "20", "--chaos-percent", "0"}});
  const auto shot = screenshot_path("dashboard.png");
  const auto run = run_browser(stack, shot);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::exists(shot) && fs::file_size(shot) > 10'000) << shot;
  ASSERT_EQ(run.task_id.size(), 36u) << run.output;

  // The task the page started is the one the service ran, in audit mode, exactly once.
  const auto t = stack.task(run.task_id);
  ASSERT_FALSE(t.empty()) << run.task_id;
  EXPECT_EQ(t.at("status").as_string(), "succeeded");
  EXPECT_TRUE(t.at("audit_mode").as_bool());
  const auto report = stack.report();
  EXPECT_EQ(num(t.at("counts").as_object(), "posted"), 200);
  EXPECT_EQ(num(report, "received"), 200);
  EXPECT_EQ(num(report, "duplicates"), 0);
  EXPECT_EQ(stack.verify(run.task_id), 0);
}

TEST(dashboard, with_an_api_token_the_page_asks_for_it_and_then_works) {
  if (const auto missing = browser_test_missing(); !missing.empty())
    FAIL() << missing;
  const std::string token = "dashboard-test-token-5f1c";
  service_stack stack(
      {.sim_args = {"--verify", "--seed", "32", "--pages", "10", "--chaos-percent", "0"},
       .extra_env = {"ETL_API_TOKEN=" + token}});
  // The page itself needs no token; the API does.
  auto page = http_get(stack.port(), "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  auto list = http_get(stack.port(), "/extractor/tasks");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 401) << list->body;

  const auto run = run_browser(stack, screenshot_path("dashboard-token.png"), token);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.task_id.size(), 36u) << run.output;
  auto t = http_request(stack.port(), "GET", "/extractor/tasks/" + run.task_id, {},
                        default_http_timeout, {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 200) << t->body;
  EXPECT_EQ(json::parse(t->body).at("status").as_string(), "succeeded");
}

TEST(dashboard, in_chromium_older_tasks_are_one_click_away) {
  if (const auto missing = browser_test_missing(); !missing.empty())
    FAIL() << missing;
  // The API alone: 30 queued tasks, more than the 25 the table shows at first.
  service_stack_options o;
  o.start_worker = false;
  service_stack stack(o);
  for (int i = 0; i < 30; ++i)
    stack.trigger(false);
  const auto run = run_browser(stack, screenshot_path("dashboard-older.png"), {}, 30);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("older=30"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace etl::test
