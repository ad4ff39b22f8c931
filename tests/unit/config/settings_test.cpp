#include "etl/config/settings.hpp"

#include <map>

#include <gtest/gtest.h>

#include "etl/config/option_types.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

option_set every_option() {
  option_set set;
  add_common_options(set);
  add_client_options(set);
  add_server_options(set);
  return set;
}

// Parses and loads; a failure of either step is returned as its error.
boost::system::result<settings, option_error> load(const std::vector<std::string>& args,
                                                   std::map<std::string, std::string> env = {}) {
  auto values = every_option().parse(args, env_of(std::move(env)));
  if (!values) {
    return values.error();
  }
  return load_settings(*values);
}

settings loaded(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  auto r = load(args, std::move(env));
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : settings{};
}

std::string load_error(const std::vector<std::string>& args,
                       std::map<std::string, std::string> env = {}) {
  auto r = load(args, std::move(env));
  EXPECT_FALSE(r.has_value()) << "accepted";
  return r ? std::string() : r.error().message;
}

const std::vector<std::string> contract_variables{"ETL_LISTEN",
                                                  "ETL_REDIS_URL",
                                                  "ETL_DATABASE_URL",
                                                  "ETL_SOURCE_URL",
                                                  "ETL_HOME_URL",
                                                  "ETL_AUDIT_DIR",
                                                  "ETL_OUTPUT_DIR",
                                                  "ETL_PIPELINES_DIR",
                                                  "ETL_WORKER_PROCESSES",
                                                  "ETL_CONCURRENCY",
                                                  "ETL_ADAPTIVE_CONCURRENCY",
                                                  "ETL_API_TOKEN",
                                                  "ETL_LOG_FORMAT",
                                                  "ETL_LOG_LEVEL",
                                                  "ETL_IN_DOUBT",
                                                  "ETL_IN_DOUBT_WAIT",
                                                  "ETL_RETRY_ATTEMPTS",
                                                  "ETL_RETRY_BASE_DELAY",
                                                  "ETL_RETRY_MAX_DELAY",
                                                  "ETL_RETRY_AFTER_MAX",
                                                  "ETL_CONNECT_TIMEOUT",
                                                  "ETL_GET_TIMEOUT",
                                                  "ETL_POST_TIMEOUT",
                                                  "ETL_REQUEST_DEADLINE",
                                                  "ETL_MAX_CONNECTIONS",
                                                  "ETL_HEDGE",
                                                  "ETL_HEDGE_DELAY",
                                                  "ETL_HEDGE_MIN_DELAY",
                                                  "ETL_HEDGE_MAX_DELAY",
                                                  "ETL_HEDGE_BUDGET",
                                                  "ETL_HTTP_READ_TIMEOUT",
                                                  "ETL_HTTP_IDLE_TIMEOUT",
                                                  "ETL_HTTP_MAX_CONNECTIONS",
                                                  "ETL_IDEMPOTENCY_RETENTION",
                                                  "ETL_READY_TIMEOUT",
                                                  "ETL_RETENTION",
                                                  "ETL_SCHEDULES",
                                                  "ETL_SCHEDULE_GRACE"};

TEST(settings, defaults_are_the_documented_ones) {
  const settings s = loaded({});
  EXPECT_EQ(s.listen_host, "127.0.0.1");
  EXPECT_EQ(s.listen_port, 8000);
  EXPECT_EQ(s.redis_url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(s.database_url, "postgresql://etl@127.0.0.1:5432/etl");
  EXPECT_EQ(s.source_url, "http://127.0.0.1:3123");
  EXPECT_EQ(s.home_url, "http://127.0.0.1:3123/animals/v1/home");
  EXPECT_EQ(s.audit_dir, "./audit");
  EXPECT_EQ(s.worker_processes, 2);
  EXPECT_EQ(s.concurrency, 64);
  EXPECT_TRUE(s.adaptive_concurrency);
  EXPECT_FALSE(s.api_token.has_value());
  EXPECT_EQ(s.log_format, log_format::text);
  EXPECT_EQ(s.log_level, spdlog::level::info);
  EXPECT_EQ(s.in_doubt, in_doubt_policy::skip);
  EXPECT_EQ(s.in_doubt_wait, 20s);
  EXPECT_EQ(s.retry_attempts, 6);
  EXPECT_EQ(s.retry_base_delay, 50ms);
  EXPECT_EQ(s.retry_max_delay, 2s);
  EXPECT_EQ(s.retry_after_max, 10s);
  EXPECT_EQ(s.connect_timeout, 2s);
  EXPECT_EQ(s.get_timeout, 10s);
  EXPECT_EQ(s.post_timeout, 30s);
  EXPECT_EQ(s.request_deadline, 120s);
  EXPECT_EQ(s.max_connections, 64);
  EXPECT_TRUE(s.hedge);
  EXPECT_FALSE(s.hedge_delay.has_value());
  EXPECT_EQ(s.hedge_min_delay, 50ms);
  EXPECT_EQ(s.hedge_max_delay, 1s);
  EXPECT_DOUBLE_EQ(s.hedge_budget, 0.1);
  EXPECT_EQ(s.http_read_timeout, 10s);
  EXPECT_EQ(s.http_idle_timeout, 30s);
  EXPECT_EQ(s.http_max_connections, 2048);
  EXPECT_EQ(s.idempotency_retention, 24h);
  EXPECT_EQ(s.ready_timeout, 2s);
  EXPECT_EQ(s.retention, 720h);
}

TEST(settings, server_options_from_the_environment) {
  const settings s = loaded({"--idempotency-retention=48h"}, {{"ETL_HTTP_READ_TIMEOUT", "750ms"},
                                                              {"ETL_HTTP_IDLE_TIMEOUT", "5s"},
                                                              {"ETL_HTTP_MAX_CONNECTIONS", "16"},
                                                              {"ETL_READY_TIMEOUT", "500ms"},
                                                              {"ETL_RETENTION", "48h"}});
  EXPECT_EQ(s.http_read_timeout, 750ms);
  EXPECT_EQ(s.http_idle_timeout, 5s);
  EXPECT_EQ(s.http_max_connections, 16);
  EXPECT_EQ(s.idempotency_retention, 48h);
  EXPECT_EQ(s.ready_timeout, 500ms);
  EXPECT_EQ(s.retention, 48h);
  EXPECT_NE(load_error({}, {{"ETL_RETENTION", "10m"}}).find("ETL_RETENTION"), std::string::npos);
  EXPECT_NE(load_error({}, {{"ETL_HTTP_MAX_CONNECTIONS", "0"}}).find("ETL_HTTP_MAX_CONNECTIONS"),
            std::string::npos);
}

TEST(settings, every_contract_variable_is_declared) {
  const option_set set = every_option();
  for (const auto& name : contract_variables) {
    EXPECT_TRUE(set.contains(name)) << name;
  }
  EXPECT_EQ(set.specs().size(), contract_variables.size());
}

TEST(settings, read_from_the_environment) {
  const settings s = loaded({}, {{"ETL_LISTEN", "[::1]:9000"},
                                 {"ETL_REDIS_URL", "redis://cache:6380/1"},
                                 {"ETL_DATABASE_URL", "postgres://u:p@db/etl"},
                                 {"ETL_AUDIT_DIR", "/var/lib/etl/audit"},
                                 {"ETL_OUTPUT_DIR", "/srv/etl/output"},
                                 {"ETL_PIPELINES_DIR", "/etc/etl/pipelines"},
                                 {"ETL_WORKER_PROCESSES", "4"},
                                 {"ETL_CONCURRENCY", "128"},
                                 {"ETL_ADAPTIVE_CONCURRENCY", "false"},
                                 {"ETL_API_TOKEN", "s3cret"},
                                 {"ETL_LOG_FORMAT", "json"},
                                 {"ETL_LOG_LEVEL", "debug"},
                                 {"ETL_IN_DOUBT", "resend"},
                                 {"ETL_IN_DOUBT_WAIT", "30s"},
                                 {"ETL_HEDGE", "false"},
                                 {"ETL_HEDGE_DELAY", "120ms"},
                                 {"ETL_HEDGE_BUDGET", "0.05"}});
  EXPECT_EQ(s.listen_host, "::1");
  EXPECT_EQ(s.listen_port, 9000);
  EXPECT_EQ(s.redis_url, "redis://cache:6380/1");
  EXPECT_EQ(s.database_url, "postgres://u:p@db/etl");
  EXPECT_EQ(s.audit_dir, "/var/lib/etl/audit");
  EXPECT_EQ(s.output_dir, "/srv/etl/output");
  EXPECT_EQ(s.pipelines_dir, "/etc/etl/pipelines");
  EXPECT_EQ(s.worker_processes, 4);
  EXPECT_EQ(s.concurrency, 128);
  EXPECT_FALSE(s.adaptive_concurrency) << "the default is on; false turns it off";
  EXPECT_EQ(s.api_token, "s3cret");
  EXPECT_EQ(s.log_format, log_format::json);
  EXPECT_EQ(s.log_level, spdlog::level::debug);
  EXPECT_EQ(s.in_doubt, in_doubt_policy::resend);
  EXPECT_EQ(s.in_doubt_wait, 30s);
  EXPECT_FALSE(s.hedge);
  EXPECT_EQ(s.hedge_delay, 120ms);
  EXPECT_DOUBLE_EQ(s.hedge_budget, 0.05);
}

TEST(settings, flags_override_the_environment) {
  const settings s = loaded({"--worker-processes", "3", "--log-level=warn", "--listen=:8080"},
                            {{"ETL_WORKER_PROCESSES", "4"}, {"ETL_LOG_LEVEL", "debug"}});
  EXPECT_EQ(s.worker_processes, 3);
  EXPECT_EQ(s.log_level, spdlog::level::warn);
  EXPECT_EQ(s.listen_host, "0.0.0.0");
  EXPECT_EQ(s.listen_port, 8080);
}

TEST(settings, home_url_is_derived_from_source_url_when_unset) {
  EXPECT_EQ(loaded({"--source-url=http://10.0.0.5:3123"}).home_url,
            "http://10.0.0.5:3123/animals/v1/home");
  EXPECT_EQ(loaded({}, {{"ETL_SOURCE_URL", "http://sim:4000/"}}).home_url,
            "http://sim:4000/animals/v1/home");
  EXPECT_EQ(
      loaded({"--home-url=http://other:1/home"}, {{"ETL_SOURCE_URL", "http://sim:4000"}}).home_url,
      "http://other:1/home");
}

TEST(settings, urls_are_validated_at_load_time) {
  EXPECT_EQ(load_error({}, {{"ETL_SOURCE_URL", "http://127.0.0.1:312300"}}),
            "ETL_SOURCE_URL: is not a valid URL (port 312300 is out of range (1-65535)), got "
            "'http://127.0.0.1:312300'");
  EXPECT_NE(load_error({"--home-url", "https://home.example/animals/v1/home"}).find("no TLS"),
            std::string::npos);
  EXPECT_EQ(load_error({"--redis-url=http://127.0.0.1:6379"}),
            "--redis-url (ETL_REDIS_URL): must use the redis scheme, not http, got "
            "'http://127.0.0.1:6379'");
  EXPECT_NE(load_error({}, {{"ETL_DATABASE_URL", "postgresql://etl@/etl"}}).find("empty host"),
            std::string::npos);
  EXPECT_NE(load_error({}, {{"ETL_LISTEN", "127.0.0.1"}}).find("ETL_LISTEN: "), std::string::npos);
}

TEST(settings, post_timeout_of_15s_or_less_is_rejected_with_the_reason) {
  const std::string err = load_error({"--post-timeout=15s"});
  EXPECT_EQ(err.rfind("--post-timeout (ETL_POST_TIMEOUT): must be longer than 15s", 0), 0u) << err;
  EXPECT_NE(err.find("may still land"), std::string::npos) << err;
  EXPECT_NE(load_error({}, {{"ETL_POST_TIMEOUT", "5s"}}).find("ETL_POST_TIMEOUT: must be longer"),
            std::string::npos);
  EXPECT_NE(load_error({}, {{"ETL_POST_TIMEOUT", "30"}}).find("with a unit"), std::string::npos);
  EXPECT_NE(load_error({}, {{"ETL_POST_TIMEOUT", "11m"}}).find("to 10m"), std::string::npos);
  EXPECT_EQ(loaded({"--post-timeout=15001ms"}).post_timeout, 15001ms);
}

TEST(settings, request_deadline_must_cover_the_post_timeout) {
  const std::string err = load_error({"--request-deadline=20s"});
  EXPECT_EQ(err,
            "--request-deadline (ETL_REQUEST_DEADLINE) (20s) must not be shorter than "
            "ETL_POST_TIMEOUT (30s): the deadline would abandon a POST that may still land");
}

TEST(settings, delay_ranges_must_be_ordered) {
  EXPECT_EQ(load_error({}, {{"ETL_RETRY_BASE_DELAY", "5s"}}),
            "ETL_RETRY_BASE_DELAY (5s) must not exceed ETL_RETRY_MAX_DELAY (2s)");
  EXPECT_EQ(load_error({"--hedge-min-delay=2s"}),
            "--hedge-min-delay (ETL_HEDGE_MIN_DELAY) (2s) must not exceed ETL_HEDGE_MAX_DELAY "
            "(1s)");
  EXPECT_EQ(loaded({"--retry-base-delay=2s"}).retry_base_delay, 2s);
}

TEST(settings, typed_errors_name_the_option) {
  EXPECT_EQ(load_error({}, {{"ETL_WORKER_PROCESSES", "x"}}),
            "ETL_WORKER_PROCESSES: must be an integer from 1 to 256, got 'x'");
  EXPECT_EQ(load_error({"--in-doubt=retry"}),
            "--in-doubt (ETL_IN_DOUBT): must be one of skip, resend, got 'retry'");
  EXPECT_EQ(load_error({}, {{"ETL_LOG_LEVEL", "warning"}}),
            "ETL_LOG_LEVEL: must be one of trace, debug, info, warn, error, critical, off, got "
            "'warning'");
  EXPECT_EQ(load_error({}, {{"ETL_HEDGE", "sometimes"}}),
            "ETL_HEDGE: must be true or false (also accepted: 1/0, yes/no), got 'sometimes'");
  EXPECT_EQ(load_error({}, {{"ETL_GET_TIMEOUT", "10"}})
                .rfind("ETL_GET_TIMEOUT: must be a "
                       "duration with a unit",
                       0),
            0u);
  EXPECT_EQ(load_error({"--retry-attempts", "0"}),
            "--retry-attempts (ETL_RETRY_ATTEMPTS): must be an integer from 1 to 100, got '0'");
}

TEST(settings, undeclared_options_keep_their_defaults) {
  option_set set;
  add_options(set, {"ETL_SOURCE_URL", "ETL_LOG_FORMAT"});
  EXPECT_EQ(set.specs().size(), 2u);
  EXPECT_EQ(set.parse({"--listen=:1"}, {}).error().kind, option_error_kind::unknown_flag);
  auto values = set.parse({"--source-url=http://sim:1"}, env_of({{"ETL_WORKER_PROCESSES", "9"}}));
  ASSERT_TRUE(values.has_value()) << values.error().message;
  auto s = load_settings(*values);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->source_url, "http://sim:1");
  EXPECT_EQ(s->home_url, "http://sim:1/animals/v1/home");
  EXPECT_EQ(s->worker_processes, 2) << "an undeclared option must not be read from the env";
}

TEST(settings, add_options_rejects_unknown_names) {
  option_set set;
  EXPECT_THROW(add_options(set, {"ETL_NOPE"}), std::logic_error);
  add_common_options(set);
  EXPECT_THROW(add_common_options(set), std::logic_error);
}

TEST(settings, a_binary_adds_its_own_options_beside_the_common_ones) {
  option_set set;
  add_common_options(set);
  set.add(bool_option("ETL_MIGRATE_ONLY", false, "apply the migrations and exit"));
  auto values = set.parse({"--migrate-only"}, {});
  ASSERT_TRUE(values.has_value()) << values.error().message;
  EXPECT_TRUE(values->get<bool>("ETL_MIGRATE_ONLY"));
  EXPECT_TRUE(load_settings(*values).has_value());
}

TEST(settings, help_lists_every_option_with_its_default) {
  const std::string folded = every_option().help_text("etl-worker", "runs batch jobs");
  // Help lines are folded; compare with the line breaks and indents collapsed to one space.
  std::string help;
  for (const char c : folded) {
    const bool blank = c == ' ' || c == '\n';
    if (!blank || (!help.empty() && help.back() != ' ')) {
      help += blank ? ' ' : c;
    }
  }
  for (const auto& name : contract_variables) {
    EXPECT_NE(help.find(name), std::string::npos) << name;
    EXPECT_NE(help.find(flag_name(name) + " "), std::string::npos) << name;
    EXPECT_NE(folded.find(name + "\n"), std::string::npos) << name << " heads its entry";
  }
  EXPECT_NE(help.find("(default: 127.0.0.1:8000)"), std::string::npos) << help;
  EXPECT_NE(help.find("(default: 20s)"), std::string::npos) << help;
  EXPECT_NE(help.find("(default: 0.1)"), std::string::npos) << help;
  EXPECT_NE(help.find("text|json"), std::string::npos);
  EXPECT_NE(help.find("skip|resend"), std::string::npos);
  EXPECT_NE(help.find("--api-token <secret>"), std::string::npos);
  EXPECT_NE(help.find("the value is never shown"), std::string::npos);
}

TEST(client_options, maps_every_knob) {
  const settings s = loaded(
      {"--retry-attempts=3", "--retry-base-delay=10ms", "--retry-max-delay=1s",
       "--retry-after-max=5s", "--connect-timeout=1s", "--get-timeout=4s", "--post-timeout=40s",
       "--request-deadline=90s", "--max-connections=8", "--hedge=no", "--hedge-delay=75ms",
       "--hedge-min-delay=20ms", "--hedge-max-delay=500ms", "--hedge-budget=0.2"});
  const http_client_options o = client_options(s);
  EXPECT_EQ(o.retry.max_attempts, 3);
  EXPECT_EQ(o.retry.base_delay, 10ms);
  EXPECT_EQ(o.retry.max_delay, 1s);
  EXPECT_EQ(o.retry.retry_after_cap, 5s);
  EXPECT_EQ(o.connect_timeout, 1s);
  EXPECT_EQ(o.get_timeout, 4s);
  EXPECT_EQ(o.post_timeout, 40s);
  EXPECT_EQ(o.request_deadline, 90s);
  EXPECT_EQ(o.max_connections, 8u);
  EXPECT_FALSE(o.hedge);
  EXPECT_EQ(o.hedge_delay, 75ms);
  EXPECT_EQ(o.hedge_min_delay, 20ms);
  EXPECT_EQ(o.hedge_max_delay, 500ms);
  EXPECT_DOUBLE_EQ(o.hedge_budget, 0.2);
}

TEST(client_options, defaults_match_the_client_defaults) {
  const http_client_options o = client_options(settings{});
  const http_client_options d;
  EXPECT_EQ(o.retry.max_attempts, d.retry.max_attempts);
  EXPECT_EQ(o.retry.base_delay, d.retry.base_delay);
  EXPECT_EQ(o.retry.max_delay, d.retry.max_delay);
  EXPECT_EQ(o.retry.retry_after_cap, d.retry.retry_after_cap);
  EXPECT_EQ(o.connect_timeout, d.connect_timeout);
  EXPECT_EQ(o.get_timeout, d.get_timeout);
  EXPECT_EQ(o.post_timeout, d.post_timeout);
  EXPECT_EQ(o.request_deadline, d.request_deadline);
  EXPECT_EQ(o.max_connections, d.max_connections);
  EXPECT_EQ(o.hedge, d.hedge);
  EXPECT_EQ(o.hedge_delay, d.hedge_delay);
  EXPECT_EQ(o.hedge_min_delay, d.hedge_min_delay);
  EXPECT_EQ(o.hedge_max_delay, d.hedge_max_delay);
  EXPECT_DOUBLE_EQ(o.hedge_budget, d.hedge_budget);
}

TEST(describe, hides_the_token_and_url_passwords) {
  const settings s = loaded({}, {{"ETL_API_TOKEN", "tok-123"},
                                 {"ETL_DATABASE_URL", "postgresql://etl:pw-456@db:5432/etl"}});
  const std::string line = describe(s);
  EXPECT_EQ(line.find("tok-123"), std::string::npos) << line;
  EXPECT_EQ(line.find("pw-456"), std::string::npos) << line;
  EXPECT_NE(line.find("api_token=set"), std::string::npos) << line;
  EXPECT_NE(line.find("database_url=postgresql://etl:***@db:5432/etl"), std::string::npos) << line;
  EXPECT_NE(line.find("post_timeout=30s"), std::string::npos) << line;
  EXPECT_NE(line.find("hedge_delay=auto"), std::string::npos) << line;
  EXPECT_NE(describe(settings{}).find("api_token=unset"), std::string::npos);
}

TEST(load_settings_or_exit, contradiction_exits_2_with_the_message) {
  auto values = every_option().parse({"--request-deadline=20s"}, {});
  ASSERT_TRUE(values.has_value());
  EXPECT_EXIT((void)load_settings_or_exit(*values, "etl-test"), testing::ExitedWithCode(2),
              "etl-test: --request-deadline \\(ETL_REQUEST_DEADLINE\\) \\(20s\\) must not be "
              "shorter");
}

}  // namespace
}  // namespace etl
