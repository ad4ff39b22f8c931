// etl-server's HTTP API against a running server with real Redis and Postgres (no workers: a
// triggered task stays queued, which is all these tests need): the trigger and its parameters,
// Idempotency-Key, reading and cancelling a task, health and readiness, 404 and 405, the API
// token, and the request limits (413, 431, 400). Every error must be JSON
// {"error", "detail"}.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <future>
#include <memory>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "etl/test/http.hpp"
#include "etl/test/raw_connection.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view unknown_id = "00000000-0000-4000-8000-000000000000";

// The body of an error reply, checked to be {"error": <code>, "detail": <non-empty text>}.
json::object expect_error(const result<http_reply>& r, int status, std::string_view code) {
  EXPECT_TRUE(r) << r.error().message();
  if (!r)
    return {};
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  boost::system::error_code ec;
  auto v = json::parse(r->body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r->body;
  if (ec || !v.is_object())
    return {};
  auto o = v.as_object();
  EXPECT_EQ(o["error"], json::value(code)) << r->body;
  EXPECT_TRUE(o["detail"].is_string() && !o["detail"].as_string().empty()) << r->body;
  return o;
}

std::string detail_of(const json::object& o) {
  auto it = o.find("detail");
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

class api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_stack_options o;
    o.start_worker = false;
    stack_ = std::make_unique<service_stack>(std::move(o));
  }
  static void TearDownTestSuite() { stack_.reset(); }

  static std::uint16_t port() { return stack_->port(); }
  static result<http_reply> request(std::string_view method, std::string_view target,
                                    std::string_view body = {}, const headers& h = {}) {
    return http_request(port(), method, target, body, default_http_timeout, h);
  }
  // Runs `sql` (with $1 = arg) in the stack's database.
  static void sql(const std::string& statement, const std::string& arg) {
    pqxx::connection c(stack_->database_url());
    pqxx::work w(c);
    w.exec_params(statement, arg);
    w.commit();
  }

  static std::unique_ptr<service_stack> stack_;
};
std::unique_ptr<service_stack> api::stack_;

TEST_F(api, trigger_answers_get_and_post_with_and_without_the_trailing_slash) {
  std::set<std::string> ids;
  for (const auto* method : {"GET", "POST"}) {
    for (const auto* target : {"/extractor/trigger-task", "/extractor/trigger-task/"}) {
      auto r = request(method, target);
      ASSERT_TRUE(r) << r.error().message();
      ASSERT_EQ(r->status, 202) << method << " " << target << ": " << r->body;
      const auto o = json::parse(r->body).as_object();
      const std::string id(o.at("task_id").as_string());
      EXPECT_EQ(o.at("status").as_string(), "queued");
      EXPECT_EQ(o.at("status_url").as_string(), "/extractor/tasks/" + id);
      EXPECT_EQ(r->header("Location"), "/extractor/tasks/" + id);
      ids.insert(id);
    }
  }
  EXPECT_EQ(ids.size(), 4u) << "each trigger without a key is a new task";

  // audit_mode in the query or in the JSON body; the task reads it back.
  auto q = request("POST", "/extractor/trigger-task?audit_mode=true");
  auto b = request("POST", "/extractor/trigger-task", R"({"audit_mode": true})");
  auto off = request("GET", "/extractor/trigger-task?audit_mode=false");
  ASSERT_TRUE(q && b && off);
  for (const auto* r : {&*q, &*b, &*off}) {
    ASSERT_EQ(r->status, 202) << r->body;
    const std::string id(json::parse(r->body).at("task_id").as_string());
    const auto t = stack_->task(id);
    ASSERT_FALSE(t.empty());
    EXPECT_EQ(t.at("audit_mode").as_bool(), r != &*off) << r->body;
  }
}

TEST_F(api, trigger_rejects_unknown_parameters_bad_values_and_malformed_json) {
  auto unknown =
      expect_error(request("POST", "/extractor/trigger-task?audit=true"), 400, "unknown_parameter");
  EXPECT_NE(detail_of(unknown).find("'audit'"), std::string::npos) << detail_of(unknown);
  auto maybe = expect_error(request("GET", "/extractor/trigger-task?audit_mode=maybe"), 400,
                            "invalid_parameter");
  EXPECT_NE(detail_of(maybe).find("audit_mode"), std::string::npos);
  EXPECT_NE(detail_of(maybe).find("maybe"), std::string::npos);
  auto field = expect_error(request("POST", "/extractor/trigger-task", R"({"pages": 3})"), 400,
                            "unknown_parameter");
  EXPECT_NE(detail_of(field).find("'pages'"), std::string::npos);
  expect_error(request("POST", "/extractor/trigger-task", R"({"audit_mode": "yes"})"), 400,
               "invalid_parameter");
  expect_error(request("POST", "/extractor/trigger-task", R"({"audit_mode": tru)"), 400,
               "malformed_json");
  expect_error(request("POST", "/extractor/trigger-task", "[true]"), 400, "invalid_body");
}

TEST_F(api, idempotency_key_returns_the_same_task_and_409_for_other_parameters) {
  const headers key{{"Idempotency-Key", "order-7"}};
  auto first = request("POST", "/extractor/trigger-task?audit_mode=true", {}, key);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202) << first->body;
  const std::string id(json::parse(first->body).at("task_id").as_string());

  // The same parameters, by query or body, GET or POST: the same task, 200.
  auto again = request("POST", "/extractor/trigger-task?audit_mode=true", {}, key);
  auto by_body = request("POST", "/extractor/trigger-task/", R"({"audit_mode":true})", key);
  auto by_get = request("GET", "/extractor/trigger-task?audit_mode=1", {}, key);
  for (const auto* r : {&again, &by_body, &by_get}) {
    ASSERT_TRUE(*r);
    EXPECT_EQ((*r)->status, 200) << (*r)->body;
    EXPECT_EQ(json::parse((*r)->body).at("task_id").as_string(), id);
  }

  // Other parameters (audit_mode alone differs): 409, naming the task; nothing is created.
  auto other = expect_error(request("POST", "/extractor/trigger-task", {}, key), 409,
                            "idempotency_key_conflict");
  EXPECT_NE(detail_of(other).find(id), std::string::npos) << detail_of(other);

  expect_error(
      request("POST", "/extractor/trigger-task", {}, {{"Idempotency-Key", std::string(201, 'k')}}),
      400, "invalid_idempotency_key");
}

TEST_F(api, concurrent_triggers_with_one_key_create_one_task) {
  std::vector<std::future<result<http_reply>>> replies;
  for (int i = 0; i < 8; ++i) {
    replies.push_back(std::async(std::launch::async, [] {
      return request("POST", "/extractor/trigger-task", {}, {{"Idempotency-Key", "burst-1"}});
    }));
  }
  std::set<std::string> ids;
  int created = 0;
  for (auto& f : replies) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->status == 200 || r->status == 202) << r->body;
    created += r->status == 202 ? 1 : 0;
    ids.insert(std::string(json::parse(r->body).at("task_id").as_string()));
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
}

TEST_F(api, a_key_older_than_the_retention_starts_a_new_task) {
  const headers key{{"Idempotency-Key", "nightly-2026-11-22"}};
  auto first = request("POST", "/extractor/trigger-task", {}, key);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202);
  const std::string id(json::parse(first->body).at("task_id").as_string());
  // 23 hours old: still within the default 24 h.
  sql("UPDATE tasks SET created_at = now() - interval '23 hours' WHERE id = $1", id);
  auto within = request("POST", "/extractor/trigger-task", {}, key);
  ASSERT_TRUE(within);
  EXPECT_EQ(within->status, 200);
  EXPECT_EQ(json::parse(within->body).at("task_id").as_string(), id);
  // 25 hours old: the key may start a new task, even with other parameters.
  sql("UPDATE tasks SET created_at = now() - interval '25 hours' WHERE id = $1", id);
  auto later = request("POST", "/extractor/trigger-task?audit_mode=true", {}, key);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 202) << later->body;
  EXPECT_NE(json::parse(later->body).at("task_id").as_string(), id);
}

TEST_F(api, get_task_answers_the_task_404_for_an_unknown_id_400_for_a_malformed_one) {
  const auto id = stack_->trigger(false);
  auto r = request("GET", "/extractor/tasks/" + id);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto t = json::parse(r->body).as_object();
  EXPECT_EQ(t.at("task_id").as_string(), id);
  EXPECT_EQ(t.at("status").as_string(), "queued");
  for (const auto* k : {"created_at", "batches", "counts", "errors", "status_url"})
    EXPECT_TRUE(t.contains(k)) << k;

  auto missing = expect_error(request("GET", "/extractor/tasks/" + std::string(unknown_id)), 404,
                              "task_not_found");
  EXPECT_NE(detail_of(missing).find(unknown_id), std::string::npos);
  expect_error(request("GET", "/extractor/tasks/42"), 400, "invalid_task_id");
  expect_error(request("GET", "/extractor/tasks/not-a-task"), 400, "invalid_task_id");
}

TEST_F(api, cancel_a_queued_task_and_bad_or_unknown_ids) {
  const auto id = stack_->trigger(false);
  auto r = request("POST", "/extractor/tasks/" + id + "/cancel");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto t = json::parse(r->body).as_object();
  EXPECT_EQ(t.at("status").as_string(), "cancelled");
  EXPECT_FALSE(t.at("finished_at").is_null());
  // Cancelling again changes nothing.
  auto again = request("POST", "/extractor/tasks/" + id + "/cancel");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(json::parse(again->body).at("finished_at"), t.at("finished_at"));

  expect_error(request("POST", "/extractor/tasks/" + std::string(unknown_id) + "/cancel"), 404,
               "task_not_found");
  expect_error(request("POST", "/extractor/tasks/nope/cancel"), 400, "invalid_task_id");
}

TEST_F(api, unknown_paths_404_and_other_methods_405_with_allow) {
  expect_error(request("GET", "/nothing/here"), 404, "not_found");
  const auto id = stack_->trigger(false);
  struct case_t {
    std::string method, target, allow;
  };
  const std::vector<case_t> cases{
      {"DELETE", "/extractor/trigger-task", "GET, POST"},
      {"PUT", "/extractor/trigger-task/", "GET, POST"},
      {"POST", "/extractor/tasks/" + id, "GET"},
      {"DELETE", "/extractor/tasks/" + id, "GET"},
      {"GET", "/extractor/tasks/" + id + "/cancel", "POST"},
      {"POST", "/healthz", "GET"},
      {"POST", "/readyz", "GET"},
  };
  for (const auto& c : cases) {
    auto r = request(c.method, c.target);
    expect_error(r, 405, "method_not_allowed");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("Allow"), c.allow) << c.method << " " << c.target;
  }
}

TEST_F(api, healthz_and_readyz_answer_when_everything_is_up) {
  auto h = request("GET", "/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body), json::parse(R"({"status":"ok"})"));
  auto r = request("GET", "/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body),
            json::parse(R"({"status":"ready","checks":{"redis":"ok","postgres":"ok"}})"));
}

TEST_F(api, a_body_above_1_mib_gets_413_and_headers_above_the_limit_431) {
  // Content-Length alone is enough for the server to refuse; the body is not sent.
  auto big = raw_connection::open(port());
  ASSERT_TRUE(big);
  ASSERT_FALSE(
      big->send("POST /extractor/trigger-task HTTP/1.1\r\nHost: t\r\n"
                "Content-Type: application/json\r\nContent-Length: 1048577\r\n\r\n{"));
  auto r413 = big->read_reply(5s);
  ASSERT_TRUE(r413) << r413.error().message();
  EXPECT_EQ(r413->status, 413);
  EXPECT_EQ(json::parse(r413->body).at("error").as_string(), "body_too_large");
  EXPECT_TRUE(big->wait_closed(5s));

  // A whole body of exactly 1 MiB is read and judged on its content.
  const std::string mib(1 << 20, 'x');
  expect_error(http_post(port(), "/extractor/trigger-task", mib), 400, "malformed_json");
  // A chunked body that grows past 1 MiB is cut off too.
  auto chunked = raw_connection::open(port());
  ASSERT_TRUE(chunked);
  ASSERT_FALSE(
      chunked->send("POST /extractor/trigger-task HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "40000\r\n" + std::string(0x40000, ' ') + "\r\n";
  for (int i = 0; i < 6; ++i) {
    if (chunked->send(chunk))
      break;  // the server answered and closed: read the answer below
  }
  auto r413c = chunked->read_reply(5s);
  ASSERT_TRUE(r413c) << r413c.error().message();
  EXPECT_EQ(r413c->status, 413);

  auto wide = raw_connection::open(port());
  ASSERT_TRUE(wide);
  ASSERT_FALSE(wide->send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Padding: " +
                          std::string(17 * 1024, 'p') + "\r\n\r\n"));
  auto r431 = wide->read_reply(5s);
  ASSERT_TRUE(r431) << r431.error().message();
  EXPECT_EQ(r431->status, 431);
  EXPECT_EQ(json::parse(r431->body).at("error").as_string(), "headers_too_large");

  auto garbage = raw_connection::open(port());
  ASSERT_TRUE(garbage);
  ASSERT_FALSE(garbage->send("HELLO\r\n\r\n"));
  auto r400 = garbage->read_reply(5s);
  ASSERT_TRUE(r400) << r400.error().message();
  EXPECT_EQ(r400->status, 400);
  EXPECT_EQ(json::parse(r400->body).at("error").as_string(), "bad_request");
}

// The same stack with ETL_API_TOKEN set.
class api_token : public ::testing::Test {
 protected:
  static constexpr std::string_view token = "tok-5f1d2c9a7e";
  static void SetUpTestSuite() {
    service_stack_options o;
    o.start_worker = false;
    o.extra_env = {"ETL_API_TOKEN=" + std::string(token), "ETL_LOG_LEVEL=debug"};
    stack_ = std::make_unique<service_stack>(std::move(o));
  }
  static void TearDownTestSuite() { stack_.reset(); }
  static result<http_reply> request(std::string_view method, std::string_view target,
                                    const headers& h = {}) {
    return http_request(stack_->port(), method, target, {}, default_http_timeout, h);
  }
  static headers bearer(std::string_view t) {
    return {{"Authorization", "Bearer " + std::string(t)}};
  }

  static std::unique_ptr<service_stack> stack_;
};
std::unique_ptr<service_stack> api_token::stack_;

TEST_F(api_token, every_endpoint_but_health_readiness_and_metrics_needs_the_bearer_token) {
  auto missing = request("POST", "/extractor/trigger-task");
  expect_error(missing, 401, "unauthorized");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->header("WWW-Authenticate"), "Bearer");
  auto wrong = request("POST", "/extractor/trigger-task", bearer("tok-5f1d2c9a7f"));
  expect_error(wrong, 401, "unauthorized");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
  expect_error(request("POST", "/extractor/trigger-task", bearer("tok-5f1d2c9a7")), 401,
               "unauthorized");
  expect_error(request("POST", "/extractor/trigger-task", {{"Authorization", "Basic eDp5"}}), 401,
               "unauthorized");

  auto ok = request("POST", "/extractor/trigger-task", bearer(token));
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 202) << ok->body;
  const std::string id(json::parse(ok->body).at("task_id").as_string());
  expect_error(request("GET", "/extractor/tasks/" + id), 401, "unauthorized");
  expect_error(request("POST", "/extractor/tasks/" + id + "/cancel"), 401, "unauthorized");
  expect_error(request("GET", "/nothing/here"), 401, "unauthorized");
  auto got = request("GET", "/extractor/tasks/" + id, bearer(token));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200) << got->body;

  for (const auto* open : {"/healthz", "/readyz"}) {
    auto r = request("GET", open);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << open << ": " << r->body;
  }
  auto metrics = request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->status, 401) << "/metrics is open to scrapers";

  // The token never reaches the log, even at debug level.
  const auto log = stack_->log_tail();
  EXPECT_EQ(log.find(token), std::string::npos);
  EXPECT_NE(log.find("api_token=set"), std::string::npos) << log;
}

TEST_F(api, pipelines_are_listed_with_their_parameters) {
  auto r = request("GET", "/extractor/pipelines");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto list = json::parse(r->body).at("pipelines").as_array();
  ASSERT_EQ(list.size(), 5u) << r->body;
  EXPECT_EQ(list[1].at("name"), "crunchbase-orgs");
  EXPECT_EQ(list[2].at("name"), "randomuser");
  EXPECT_EQ(list[3].at("name"), "spacex-crew");
  EXPECT_EQ(list[4].at("name"), "spacex-launches");
  // A relative date default is listed as written: it becomes a date when a task is triggered.
  EXPECT_EQ(list[4].at("parameters").at(0).at("default"), "yesterday");
  const auto& animals = list[0].as_object();
  EXPECT_EQ(animals.at("name"), "animals");
  EXPECT_EQ(animals.at("url"), "/extractor/pipelines/animals");
  const auto& param = animals.at("parameters").as_array().at(0).as_object();
  EXPECT_EQ(param.at("name"), "audit_mode");
  EXPECT_EQ(param.at("type"), "bool");
  EXPECT_EQ(param.at("default"), false);

  auto one = request("GET", "/extractor/pipelines/animals");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(json::parse(one->body).at("name"), "animals");
  auto unknown = expect_error(request("GET", "/extractor/pipelines/spacex-rockets"), 404,
                              "pipeline_not_found");
  EXPECT_NE(detail_of(unknown).find(
                "known: animals, crunchbase-orgs, randomuser, spacex-crew, spacex-launches"),
            std::string::npos);
  expect_error(request("GET", "/extractor/pipelines/Bad_Name"), 400, "invalid_pipeline_name");
  auto post = request("POST", "/extractor/pipelines");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("Allow"), "GET");
}

TEST_F(api, a_bad_pipeline_spec_stops_start_up_naming_its_file_line_and_field) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("etl-bad-specs-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "broken.yaml") << "name: broken\nsource:\n  kind: soap\n";
  for (const char* bin : {"etl-server", "etl-worker"}) {
    auto p = stack_->start(bin, {"--pipelines-dir", dir.string()});
    EXPECT_EQ(p.wait(20s).value_or(-1), 2) << bin;
  }
  std::filesystem::remove_all(dir);
  const auto log = stack_->log_tail();
  const auto where = (dir / "broken.yaml").string() + ":3:9: source.kind: unknown value 'soap'";
  EXPECT_NE(log.find("pipeline spec refused: " + where), std::string::npos) << log;
}

}  // namespace
}  // namespace etl::test
