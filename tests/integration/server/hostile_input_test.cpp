// etl-server against hostile clients, with real Redis and Postgres: 1,000 connections at once,
// task ids built to traverse paths or inject SQL, hostile Idempotency-Key values, and request
// values that try to steer the audit directory. Every answer is a 2xx or a JSON 4xx that says
// what to fix, never a 500; the tasks table is intact afterwards; an audited task writes only
// under ETL_AUDIT_DIR/<task id>/.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/core/error.hpp"
#include "etl/test/http.hpp"
#include "etl/test/raw_connection.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int connection_count = 1'000;

// The JSON error of a 4xx answer: an object with non-empty string "error" and "detail".
// Returns the error code, empty (and the test fails) when the body is not one.
std::string error_of(int status, const std::string& body) {
  EXPECT_GE(status, 400) << body;
  EXPECT_LT(status, 500) << body;
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << body;
    return {};
  }
  const auto* error = v.as_object().if_contains("error");
  const auto* detail = v.as_object().if_contains("detail");
  if (!error || !error->is_string() || error->as_string().empty() || !detail ||
      !detail->is_string() || detail->as_string().empty()) {
    ADD_FAILURE() << "no error and detail: " << body;
    return {};
  }
  return std::string(error->as_string());
}

// One request written byte for byte (a client may send what http_request would not), its
// answer read within 10 s.
result<raw_reply> exchange(std::uint16_t port, const std::string& bytes) {
  auto c = raw_connection::open(port);
  if (!c)
    return c.error();
  if (auto ec = c->send(bytes))
    return ec;
  return c->read_reply(10s);
}

std::string post_trigger(std::string_view query, const std::string& extra_headers,
                         std::string_view body = {}) {
  return "POST /extractor/trigger-task" + std::string(query) + " HTTP/1.1\r\nHost: t\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::int64_t task_count(const std::string& database_url) {
  pqxx::connection c(database_url);
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM tasks")[0].as<std::int64_t>();
}

std::string task_id_of(const std::string& body) {
  return std::string(boost::json::parse(body).at("task_id").as_string());
}

// A file-descriptor limit for this process that holds `n` sockets, up to the hard limit.
void raise_open_file_limit(rlim_t n) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? n : std::min(n, rl.rlim_max);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  ASSERT_TRUE(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= n)
      << "the hard limit on open files (" << rl.rlim_max << ") is below " << n;
}

// One server (no worker) for the tests below, a read timeout long enough for 1,000 connects.
class hostile_input : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_stack_options o;
    o.start_worker = false;
    o.extra_env = {"ETL_HTTP_MAX_CONNECTIONS=1100", "ETL_HTTP_READ_TIMEOUT=20s"};
    // The services start with a soft limit of 512 open files, as on a machine whose default is
    // low: etl-server must raise its own to hold 1,000 connections (server_app).
    rlimit rl{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
    const rlimit low{std::min<rlim_t>(rl.rlim_cur, 512), rl.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    stack_ = std::make_unique<service_stack>(std::move(o));
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  static void TearDownTestSuite() { stack_.reset(); }
  static std::uint16_t port() { return stack_->port(); }
  static std::unique_ptr<service_stack> stack_;
};
std::unique_ptr<service_stack> hostile_input::stack_;

TEST_F(hostile_input, a_thousand_concurrent_connections_are_all_answered) {
  raise_open_file_limit(connection_count + 64);
  const auto id = stack_->trigger(false);
  const auto start = steady::now();
  std::vector<raw_connection> conns;
  conns.reserve(connection_count);
  for (int i = 0; i < connection_count; ++i) {
    auto c = raw_connection::open(port());
    ASSERT_TRUE(c) << "connection " << i << ": " << c.error().message();
    conns.push_back(std::move(*c));
  }
  // Every connection is open before any sends: the server holds all of them at once.
  const std::string health = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string status = "GET /extractor/tasks/" + id + " HTTP/1.1\r\nHost: t\r\n\r\n";
  for (int i = 0; i < connection_count; ++i)
    ASSERT_FALSE(conns[i].send(i % 2 ? status : health)) << "connection " << i;
  int answered = 0;
  for (int i = 0; i < connection_count; ++i) {
    auto r = conns[i].read_reply(20s);
    ASSERT_TRUE(r) << "connection " << i << ": " << r.error().message();
    ASSERT_EQ(r->status, 200) << "connection " << i << ": " << r->body;
    const auto body = boost::json::parse(r->body).as_object();
    if (i % 2) {
      EXPECT_EQ(body.at("task_id").as_string(), id);
    } else {
      EXPECT_EQ(body.at("status").as_string(), "ok");
    }
    ++answered;
  }
  EXPECT_EQ(answered, connection_count);
  // Still serving, with the 1,000 kept alive, and on a second round over the same connections.
  auto after = http_get(port(), "/healthz", 2s);
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->status, 200);
  for (int i = 0; i < connection_count; i += 100) {
    ASSERT_FALSE(conns[i].send(health));
    auto r = conns[i].read_reply(5s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_LT(steady::now() - start, 60s);
  conns.clear();
}

// Task ids as an attacker writes them: as they go on the wire, and what may come back (400: not
// a UUID, 404: a UUID of no task).
std::vector<std::pair<std::string, std::set<int>>> hostile_task_ids() {
  const std::set<int> bad{400};
  return {{"../../etc/passwd", bad},
          {"..%2f..%2fetc%2fpasswd", bad},
          {"%2e%2e%2f%2e%2e%2f", bad},
          {"'%20OR%20'1'='1", bad},
          {"'OR'1'='1'--", bad},
          {"1;%20DROP%20TABLE%20tasks;--", bad},
          {"1;DROP%09TABLE%09tasks;--", bad},
          {std::string(10'000, 'a'), bad},
          {"0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e%00", bad},
          {"%00", bad},
          {"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", bad},  // "ключ", raw UTF-8
          {"%D0%BA%D0%BB%D1%8E%D1%87", bad},
          {"{0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e}", bad},
          {"0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e'", bad},
          {"0B7C3A52-2F4E-4A51-9D0E-6F1C2B3A4D5E", {404}},  // upper case: a UUID, of no task
          {"00000000-0000-0000-0000-000000000000", {404}}};
}

TEST_F(hostile_input, hostile_task_ids_get_400_or_404_and_the_tasks_table_stays_intact) {
  const auto id = stack_->trigger(false);
  const auto before = task_count(stack_->database_url());
  for (const auto& [raw_id, allowed] : hostile_task_ids()) {
    const auto shown = raw_id.substr(0, 60);
    for (const bool cancel : {false, true}) {
      const std::string req = std::string(cancel ? "POST" : "GET") + " /extractor/tasks/" + raw_id +
                              (cancel ? "/cancel" : "") +
                              " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n";
      auto r = exchange(port(), req);
      ASSERT_TRUE(r) << shown << ": " << r.error().message();
      EXPECT_TRUE(allowed.contains(r->status))
          << shown << " cancel=" << cancel << ": " << r->status << " " << r->body;
      error_of(r->status, r->body);
    }
  }
  // A raw NUL and raw spaces break the request line: the parser's 400, JSON too.
  for (const std::string& bad_line :
       {std::string("GET /extractor/tasks/\0x HTTP/1.1\r\n\r\n", 36),
        std::string("GET /extractor/tasks/' OR '1'='1 HTTP/1.1\r\n\r\n")}) {
    auto r = exchange(port(), bad_line);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 400) << r->body;
    error_of(r->status, r->body);
  }
  // The upper-case form of a real task's id finds it; the answer names it in lower case.
  std::string upper = id;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto found = http_get(port(), "/extractor/tasks/" + upper);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200) << found->body;
  EXPECT_EQ(task_id_of(found->body), id);

  EXPECT_EQ(task_count(stack_->database_url()), before);
  auto list = http_get(port(), "/extractor/tasks?limit=100");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(static_cast<std::int64_t>(boost::json::parse(list->body).at("tasks").as_array().size()),
            before);
  auto again = stack_->task(id);
  EXPECT_EQ(again.at("task_id").as_string(), id);
}

TEST_F(hostile_input, hostile_idempotency_keys_get_400_or_one_task_per_key) {
  const auto before = task_count(stack_->database_url());
  // Refused: each a 400 naming what to fix (the parser's own for bytes HTTP forbids).
  const std::vector<std::string> refused{
      "Idempotency-Key: " + std::string(10'000, 'k') + "\r\n",
      "Idempotency-Key: " + std::string(201, 'k') + "\r\n",
      "Idempotency-Key: a\x01"
      "b\r\n",
      "Idempotency-Key: a\x7f"
      "b\r\n",
      "Idempotency-Key: a\tb\r\n",
      "Idempotency-Key: \xd0\xba\xd0\xbb\xd1\x8e\xd1\x87-\xf0\x9f\x94\x91\r\n",
      "Idempotency-Key: \xff\xfe\r\n",
      "Idempotency-Key: \r\n",
      "Idempotency-Key: one\r\nIdempotency-Key: two\r\n"};
  for (const auto& header : refused) {
    auto r = exchange(port(), post_trigger("", header));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 400) << header.substr(0, 60) << ": " << r->body;
    const auto error = error_of(r->status, r->body);
    EXPECT_TRUE(error == "invalid_idempotency_key" || error == "bad_request") << error;
  }
  auto too_long = exchange(port(), post_trigger("", refused[0]));
  ASSERT_TRUE(too_long);
  EXPECT_NE(too_long->body.find("200"), std::string::npos) << too_long->body;
  EXPECT_EQ(task_count(stack_->database_url()), before);

  // Accepted: printable ASCII up to 200 bytes, however hostile; a second trigger with the same
  // key answers the same task (200), and nothing else changes.
  const std::vector<std::string> accepted{"\"'; DROP TABLE tasks;--",
                                          "' OR '1'='1",
                                          "../../x",
                                          "%00%0d%0a",
                                          "{\"audit_mode\":true}",
                                          "a key with spaces",
                                          std::string(200, 'k')};
  for (const auto& key : accepted) {
    const auto header = "Idempotency-Key: " + key + "\r\n";
    auto first = exchange(port(), post_trigger("?audit_mode=false", header));
    ASSERT_TRUE(first) << first.error().message();
    ASSERT_EQ(first->status, 202) << key << ": " << first->body;
    auto second = exchange(port(), post_trigger("?audit_mode=false", header));
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(second->status, 200) << key << ": " << second->body;
    EXPECT_EQ(task_id_of(second->body), task_id_of(first->body)) << key;
  }
  EXPECT_EQ(task_count(stack_->database_url()),
            before + static_cast<std::int64_t>(accepted.size()));
}

// Every regular file under `root`, relative to it.
std::vector<fs::path> files_under(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_directory())
      out.push_back(fs::relative(e.path(), root));
  }
  return out;
}

TEST(hostile_audit, no_request_value_reaches_a_path_outside_the_task_folder) {
  // The audit directory three levels into a folder of the test's own: anything written through
  // "..", however far, lands where the walk below sees it.
  const auto root =
      fs::temp_directory_path() / ("etl-hostile-" + std::to_string(std::random_device{}()));
  const auto audit = root / "a" / "b" / "audit";
  fs::create_directories(audit);
  {
    auto stack =
        make_service_stack({"--verify", "--pages", "3"}, {"ETL_AUDIT_DIR=" + audit.string()});
    const std::vector<std::pair<std::string, std::string>> steering{
        {"?audit_dir=..", ""},
        {"?audit_mode=../../x", ""},
        {"?audit_mode=true&task_id=../../x", ""},
        {"?audit_mode=true&audit_dir=/tmp", ""},
        {"", R"({"audit_mode": true, "task_id": "../../x"})"},
        {"", R"({"audit_mode": "../../x"})"},
        {"", R"({"audit_dir": "/tmp", "audit_mode": true})"}};
    for (const auto& [query, body] : steering) {
      auto r = exchange(stack.port(), post_trigger(query, "", body));
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_EQ(r->status, 400) << query << body << ": " << r->body;
      error_of(r->status, r->body);
    }
    // A key that looks like a path is only a key.
    auto r =
        exchange(stack.port(), post_trigger("?audit_mode=true", "Idempotency-Key: ../../../x\r\n"));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->status, 202) << r->body;
    const auto id = task_id_of(r->body);
    const auto t = stack.wait_finished(id, 120s);
    ASSERT_EQ(t.at("status").as_string(), "succeeded") << boost::json::serialize(t);
    EXPECT_EQ(stack.verify(id), 0);

    const std::regex dump("audit/" + id + "/batch-[0-9]+\\.json");
    const auto files = files_under(root);
    EXPECT_FALSE(files.empty());
    for (const auto& f : files) {
      EXPECT_TRUE(std::regex_match(f.string().substr(4), dump))  // without "a/b/"
          << "written outside the task's folder: " << f;
      EXPECT_EQ(f.string().substr(0, 4), "a/b/") << f;
    }
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace etl::test
