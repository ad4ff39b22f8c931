#include "etl/config/settings.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "etl/config/option_types.hpp"
#include "etl/http/url.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view home_path = "/animals/v1/home";

// Home's longest pause before it handles a request (docs/animals-api.md, "Faults every client
// meets").
constexpr milliseconds longest_pause = 15s;

std::string address_text(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<option_spec> common_specs() {
  const settings d;
  std::vector<option_spec> out;
  out.push_back(address_option("ETL_LISTEN", address_text(d.listen_host, d.listen_port),
                               "address the HTTP API listens on; ':8000' means every IPv4 "
                               "interface, port 0 lets the system pick one"));
  out.push_back(
      url_option("ETL_REDIS_URL", d.redis_url, {"redis"}, "Redis server holding the job stream"));
  out.push_back(url_option("ETL_DATABASE_URL", d.database_url, {"postgresql", "postgres"},
                           "PostgreSQL database keeping tasks, batches and the POST ledger"));
  out.push_back(
      url_option("ETL_SOURCE_URL", d.source_url, {"http"}, "base URL of the animals API"));
  out.push_back(url_option(
      "ETL_HOME_URL", std::nullopt, {"http"},
      "where batches are POSTed; when unset, ETL_SOURCE_URL + " + std::string(home_path)));
  out.push_back(string_option("ETL_AUDIT_DIR", d.audit_dir,
                              "directory of the audit dumps, <dir>/<task_id>/batch-<n>.json"));
  out.push_back(string_option("ETL_OUTPUT_DIR", d.output_dir,
                              "root folder of the files pipelines write (files sinks), one "
                              "folder per pipeline under it"));
  out.push_back(string_option("ETL_PIPELINES_DIR", std::nullopt,
                              "a folder of your own pipeline specs (*.yaml, *.json), added to the "
                              "shipped ones; a bad spec stops start-up (docs/pipelines.md)"));
  out.push_back(int_option("ETL_WORKER_PROCESSES", d.worker_processes, 1, 256,
                           "worker processes the supervisor keeps alive"));
  out.push_back(int_option("ETL_CONCURRENCY", d.concurrency, 1, 4096,
                           "in-flight requests to the source per worker process, shared by "
                           "all its jobs"));
  out.push_back(bool_option("ETL_ADAPTIVE_CONCURRENCY", d.adaptive_concurrency,
                            "move the in-flight limit to the source between 4 and "
                            "ETL_CONCURRENCY after its latency (Vegas): up while it holds, "
                            "down when the source queues"));
  out.push_back(secret_option("ETL_API_TOKEN",
                              "bearer token every endpoint but health checks and metrics "
                              "requires; unset: no authentication"));
  out.push_back(choice_option("ETL_LOG_FORMAT", std::string(to_string(d.log_format)),
                              {"text", "json"}, "format of the log lines on stderr"));
  out.push_back(choice_option("ETL_LOG_LEVEL", std::string(to_string(d.log_level)),
                              {"trace", "debug", "info", "warn", "error", "critical", "off"},
                              "lowest level logged"));
  out.push_back(choice_option("ETL_IN_DOUBT", std::string(to_string(d.in_doubt)),
                              {"skip", "resend"},
                              "a batch whose POST may have landed before a crash: skip counts "
                              "it posted, resend sends it again after ETL_IN_DOUBT_WAIT"));
  out.push_back(duration_option("ETL_IN_DOUBT_WAIT", d.in_doubt_wait, 0ms, 1h,
                                "wait before resending an in-doubt batch; keep it above home's "
                                "longest pause (15s)"));
  return out;
}

std::vector<option_spec> client_specs() {
  const settings d;
  std::vector<option_spec> out;
  out.push_back(int_option("ETL_RETRY_ATTEMPTS", d.retry_attempts, 1, 100,
                           "attempts per HTTP request, the first included"));
  out.push_back(duration_option("ETL_RETRY_BASE_DELAY", d.retry_base_delay, 0ms, 1min,
                                "the backoff before the first retry is drawn from [0, this]; "
                                "it doubles with each retry"));
  out.push_back(duration_option("ETL_RETRY_MAX_DELAY", d.retry_max_delay, 0ms, 10min,
                                "cap of the exponential backoff"));
  out.push_back(duration_option("ETL_RETRY_AFTER_MAX", d.retry_after_max, 0ms, 10min,
                                "longest Retry-After a server may ask us to wait"));
  out.push_back(duration_option("ETL_CONNECT_TIMEOUT", d.connect_timeout, 1ms, 10min,
                                "resolve and TCP connect"));
  out.push_back(duration_option("ETL_GET_TIMEOUT", d.get_timeout, 1ms, 10min,
                                "one GET attempt: write the request, read the whole answer"));

  auto post = duration_option("ETL_POST_TIMEOUT", d.post_timeout, longest_pause, 10min,
                              "one POST attempt; must be above home's longest pause (15s)");
  // A range check alone would not say why the lower bound exists, and the bound is exclusive.
  post.parse = [](std::string_view text) -> value_result {
    const auto v = parse_duration(text);
    if (!v) {
      return value_problem{"must be a duration with a unit (ms, s, m or h) above 15s, e.g. '30s'"};
    }
    if (*v <= longest_pause) {
      return value_problem{
          "must be longer than 15s: home may pause up to 15 s before handling a request, and a "
          "POST abandoned during the pause may still land, so a shorter timeout risks sending "
          "the batch twice"};
    }
    if (*v > 10min) {
      return value_problem{"must be a duration from above 15s to 10m"};
    }
    return option_value{*v};
  };
  out.push_back(std::move(post));

  out.push_back(duration_option("ETL_REQUEST_DEADLINE", d.request_deadline, 1s, 1h,
                                "a whole HTTP request, retries and backoff included"));
  out.push_back(int_option("ETL_MAX_CONNECTIONS", d.max_connections, 1, 4096,
                           "open connections per origin, busy or idle"));
  out.push_back(
      bool_option("ETL_HEDGE", d.hedge, "send a second copy of a slow GET on another connection"));
  out.push_back(duration_option("ETL_HEDGE_DELAY", d.hedge_delay, 1ms, 1min,
                                "fixed wait before hedging a GET; when unset, the recent p95 "
                                "latency within ETL_HEDGE_MIN_DELAY..ETL_HEDGE_MAX_DELAY"));
  out.push_back(duration_option("ETL_HEDGE_MIN_DELAY", d.hedge_min_delay, 1ms, 1min,
                                "shortest automatic hedge delay"));
  out.push_back(duration_option("ETL_HEDGE_MAX_DELAY", d.hedge_max_delay, 1ms, 1min,
                                "longest automatic hedge delay"));
  out.push_back(number_option("ETL_HEDGE_BUDGET", d.hedge_budget, 0.0, 1.0,
                              "largest fraction of requests that may be hedged"));
  return out;
}

std::vector<option_spec> server_specs() {
  const settings d;
  std::vector<option_spec> out;
  out.push_back(duration_option("ETL_HTTP_READ_TIMEOUT", d.http_read_timeout, 10ms, 10min,
                                "(etl-server) a request must arrive whole within this from its "
                                "first byte, a new connection's first request from the connect; "
                                "slower clients are closed"));
  out.push_back(duration_option("ETL_HTTP_IDLE_TIMEOUT", d.http_idle_timeout, 10ms, 1h,
                                "(etl-server) a kept-alive connection with no new request for "
                                "this long is closed"));
  out.push_back(int_option("ETL_HTTP_MAX_CONNECTIONS", d.http_max_connections, 1, 100'000,
                           "(etl-server) open connections at most; more are closed at once"));
  out.push_back(duration_option("ETL_IDEMPOTENCY_RETENTION", d.idempotency_retention, 1s,
                                std::chrono::hours(24 * 365),
                                "(etl-server) how long an Idempotency-Key names its task; an "
                                "older key starts a new task"));
  out.push_back(duration_option("ETL_READY_TIMEOUT", d.ready_timeout, 10ms, 1min,
                                "(etl-server) /readyz waits this long for Redis and for Postgres "
                                "to answer"));
  out.push_back(string_option("ETL_SCHEDULES", d.schedules,
                              "(etl-server) the pipelines whose spec schedules it runs: none, "
                              "all, or names separated by commas"));
  out.push_back(duration_option("ETL_SCHEDULE_GRACE", d.schedule_grace, 1s, std::chrono::hours(24),
                                "(etl-server) a scheduled run not started within this of its "
                                "time (the servers were down) is skipped, unless its spec says "
                                "catch_up"));
  out.push_back(duration_option("ETL_RETENTION", d.retention, 1h, std::chrono::hours(24 * 3650),
                                "(etl-server) finished tasks (with their batches, ids and "
                                "rejected records) and dead letters older than this are deleted, "
                                "hourly"));
  return out;
}

template <class T, class F>
void read(const option_values& values, std::string_view name, F&& assign) {
  if (auto v = values.find<T>(name)) {
    assign(std::move(*v));
  }
}

option_error conflict(std::string option, std::string message) {
  return option_error{option_error_kind::invalid_value, std::move(option), std::move(message)};
}

std::string redacted_url(const std::string& text) {
  auto u = parse_url(text);
  return u ? u->redacted() : std::string("<not a valid URL>");
}

}  // namespace

std::string_view to_string(in_doubt_policy policy) noexcept {
  return policy == in_doubt_policy::resend ? "resend" : "skip";
}

void add_common_options(option_set& options) {
  for (auto& spec : common_specs()) {
    options.add(std::move(spec));
  }
}

void add_client_options(option_set& options) {
  for (auto& spec : client_specs()) {
    options.add(std::move(spec));
  }
}

void add_server_options(option_set& options) {
  for (auto& spec : server_specs()) {
    options.add(std::move(spec));
  }
}

void add_options(option_set& options, std::initializer_list<std::string_view> names) {
  auto all = common_specs();
  for (auto& spec : client_specs()) {
    all.push_back(std::move(spec));
  }
  for (auto& spec : server_specs()) {
    all.push_back(std::move(spec));
  }
  for (const auto name : names) {
    auto it =
        std::find_if(all.begin(), all.end(), [&](const option_spec& s) { return s.name == name; });
    if (it == all.end()) {
      throw std::logic_error("no setting is named " + std::string(name));
    }
    options.add(std::move(*it));
  }
}

boost::system::result<settings, option_error> load_settings(const option_values& values) {
  settings s;
  read<std::string>(values, "ETL_LISTEN", [&](std::string v) {
    // Validated by the option's parser, so this parse cannot fail.
    if (auto hp = parse_host_port(v)) {
      s.listen_host = hp->first;
      s.listen_port = hp->second;
    }
  });
  read<std::string>(values, "ETL_REDIS_URL", [&](std::string v) { s.redis_url = std::move(v); });
  read<std::string>(values, "ETL_DATABASE_URL",
                    [&](std::string v) { s.database_url = std::move(v); });
  read<std::string>(values, "ETL_SOURCE_URL", [&](std::string v) { s.source_url = std::move(v); });
  if (auto home = values.find<std::string>("ETL_HOME_URL")) {
    s.home_url = std::move(*home);
  } else {
    std::string base = s.source_url;
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    s.home_url = base + std::string(home_path);
  }
  read<std::string>(values, "ETL_AUDIT_DIR", [&](std::string v) { s.audit_dir = std::move(v); });
  read<std::string>(values, "ETL_OUTPUT_DIR", [&](std::string v) { s.output_dir = std::move(v); });
  read<std::string>(values, "ETL_PIPELINES_DIR",
                    [&](std::string v) { s.pipelines_dir = std::move(v); });
  read<std::int64_t>(values, "ETL_WORKER_PROCESSES",
                     [&](std::int64_t v) { s.worker_processes = static_cast<int>(v); });
  read<std::int64_t>(values, "ETL_CONCURRENCY",
                     [&](std::int64_t v) { s.concurrency = static_cast<int>(v); });
  read<bool>(values, "ETL_ADAPTIVE_CONCURRENCY", [&](bool v) { s.adaptive_concurrency = v; });
  read<std::string>(values, "ETL_API_TOKEN", [&](std::string v) { s.api_token = std::move(v); });
  read<std::string>(values, "ETL_LOG_FORMAT", [&](const std::string& v) {
    s.log_format = parse_log_format(v).value_or(s.log_format);
  });
  read<std::string>(values, "ETL_LOG_LEVEL", [&](const std::string& v) {
    s.log_level = parse_log_level(v).value_or(s.log_level);
  });
  read<std::string>(values, "ETL_IN_DOUBT", [&](const std::string& v) {
    s.in_doubt = v == "resend" ? in_doubt_policy::resend : in_doubt_policy::skip;
  });
  read<milliseconds>(values, "ETL_IN_DOUBT_WAIT", [&](milliseconds v) { s.in_doubt_wait = v; });

  read<std::int64_t>(values, "ETL_RETRY_ATTEMPTS",
                     [&](std::int64_t v) { s.retry_attempts = static_cast<int>(v); });
  read<milliseconds>(values, "ETL_RETRY_BASE_DELAY",
                     [&](milliseconds v) { s.retry_base_delay = v; });
  read<milliseconds>(values, "ETL_RETRY_MAX_DELAY", [&](milliseconds v) { s.retry_max_delay = v; });
  read<milliseconds>(values, "ETL_RETRY_AFTER_MAX", [&](milliseconds v) { s.retry_after_max = v; });
  read<milliseconds>(values, "ETL_CONNECT_TIMEOUT", [&](milliseconds v) { s.connect_timeout = v; });
  read<milliseconds>(values, "ETL_GET_TIMEOUT", [&](milliseconds v) { s.get_timeout = v; });
  read<milliseconds>(values, "ETL_POST_TIMEOUT", [&](milliseconds v) { s.post_timeout = v; });
  read<milliseconds>(values, "ETL_REQUEST_DEADLINE",
                     [&](milliseconds v) { s.request_deadline = v; });
  read<std::int64_t>(values, "ETL_MAX_CONNECTIONS",
                     [&](std::int64_t v) { s.max_connections = static_cast<int>(v); });
  read<bool>(values, "ETL_HEDGE", [&](bool v) { s.hedge = v; });
  read<milliseconds>(values, "ETL_HEDGE_DELAY", [&](milliseconds v) { s.hedge_delay = v; });
  read<milliseconds>(values, "ETL_HEDGE_MIN_DELAY", [&](milliseconds v) { s.hedge_min_delay = v; });
  read<milliseconds>(values, "ETL_HEDGE_MAX_DELAY", [&](milliseconds v) { s.hedge_max_delay = v; });
  read<double>(values, "ETL_HEDGE_BUDGET", [&](double v) { s.hedge_budget = v; });
  read<milliseconds>(values, "ETL_HTTP_READ_TIMEOUT",
                     [&](milliseconds v) { s.http_read_timeout = v; });
  read<milliseconds>(values, "ETL_HTTP_IDLE_TIMEOUT",
                     [&](milliseconds v) { s.http_idle_timeout = v; });
  read<std::int64_t>(values, "ETL_HTTP_MAX_CONNECTIONS",
                     [&](std::int64_t v) { s.http_max_connections = static_cast<int>(v); });
  read<milliseconds>(values, "ETL_IDEMPOTENCY_RETENTION",
                     [&](milliseconds v) { s.idempotency_retention = v; });
  read<milliseconds>(values, "ETL_READY_TIMEOUT", [&](milliseconds v) { s.ready_timeout = v; });
  read<milliseconds>(values, "ETL_RETENTION", [&](milliseconds v) { s.retention = v; });
  read<std::string>(values, "ETL_SCHEDULES", [&](std::string v) { s.schedules = std::move(v); });
  read<milliseconds>(values, "ETL_SCHEDULE_GRACE", [&](milliseconds v) { s.schedule_grace = v; });

  if (s.retry_base_delay > s.retry_max_delay) {
    return conflict(
        "ETL_RETRY_BASE_DELAY",
        fmt::format("{} ({}) must not exceed {} ({})", values.label("ETL_RETRY_BASE_DELAY"),
                    format_duration(s.retry_base_delay), values.label("ETL_RETRY_MAX_DELAY"),
                    format_duration(s.retry_max_delay)));
  }
  if (s.hedge_min_delay > s.hedge_max_delay) {
    return conflict(
        "ETL_HEDGE_MIN_DELAY",
        fmt::format("{} ({}) must not exceed {} ({})", values.label("ETL_HEDGE_MIN_DELAY"),
                    format_duration(s.hedge_min_delay), values.label("ETL_HEDGE_MAX_DELAY"),
                    format_duration(s.hedge_max_delay)));
  }
  if (s.request_deadline < s.post_timeout) {
    return conflict(
        "ETL_REQUEST_DEADLINE",
        fmt::format("{} ({}) must not be shorter than {} ({}): the deadline would abandon a "
                    "POST that may still land",
                    values.label("ETL_REQUEST_DEADLINE"), format_duration(s.request_deadline),
                    values.label("ETL_POST_TIMEOUT"), format_duration(s.post_timeout)));
  }
  return s;
}

settings load_settings_or_exit(const option_values& values, std::string_view program) {
  auto r = load_settings(values);
  if (r) {
    return std::move(*r);
  }
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               r.error().message.c_str());
  std::exit(2);
}

http_client_options client_options(const settings& s) {
  http_client_options o;
  o.max_connections = static_cast<std::size_t>(s.max_connections);
  o.connect_timeout = s.connect_timeout;
  o.get_timeout = s.get_timeout;
  o.post_timeout = s.post_timeout;
  o.request_deadline = s.request_deadline;
  o.retry.max_attempts = s.retry_attempts;
  o.retry.base_delay = s.retry_base_delay;
  o.retry.max_delay = s.retry_max_delay;
  o.retry.retry_after_cap = s.retry_after_max;
  o.hedge = s.hedge;
  o.hedge_delay = s.hedge_delay;
  o.hedge_min_delay = s.hedge_min_delay;
  o.hedge_max_delay = s.hedge_max_delay;
  o.hedge_budget = s.hedge_budget;
  return o;
}

std::string describe(const settings& s) {
  return fmt::format(
      "listen={} redis_url={} database_url={} source_url={} home_url={} audit_dir={} "
      "output_dir={} pipelines_dir={} "
      "worker_processes={} concurrency={} adaptive_concurrency={} api_token={} log_format={} "
      "log_level={} in_doubt={} "
      "in_doubt_wait={} retry_attempts={} retry_base_delay={} retry_max_delay={} "
      "retry_after_max={} connect_timeout={} get_timeout={} post_timeout={} "
      "request_deadline={} max_connections={} hedge={} hedge_delay={} hedge_min_delay={} "
      "hedge_max_delay={} hedge_budget={} http_read_timeout={} http_idle_timeout={} "
      "http_max_connections={} idempotency_retention={} ready_timeout={} retention={}",
      address_text(s.listen_host, s.listen_port), redacted_url(s.redis_url),
      redacted_url(s.database_url), redacted_url(s.source_url), redacted_url(s.home_url),
      s.audit_dir, s.output_dir, s.pipelines_dir.empty() ? std::string("none") : s.pipelines_dir,
      s.worker_processes, s.concurrency, s.adaptive_concurrency, s.api_token ? "set" : "unset",
      to_string(s.log_format), to_string(s.log_level), to_string(s.in_doubt),
      format_duration(s.in_doubt_wait), s.retry_attempts, format_duration(s.retry_base_delay),
      format_duration(s.retry_max_delay), format_duration(s.retry_after_max),
      format_duration(s.connect_timeout), format_duration(s.get_timeout),
      format_duration(s.post_timeout), format_duration(s.request_deadline), s.max_connections,
      s.hedge, s.hedge_delay ? format_duration(*s.hedge_delay) : std::string("auto"),
      format_duration(s.hedge_min_delay), format_duration(s.hedge_max_delay), s.hedge_budget,
      format_duration(s.http_read_timeout), format_duration(s.http_idle_timeout),
      s.http_max_connections, format_duration(s.idempotency_retention),
      format_duration(s.ready_timeout), format_duration(s.retention));
}

}  // namespace etl
