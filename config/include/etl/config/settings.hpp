// The service's settings: the configuration contract (README.md, "Configuration") plus the HTTP
// client knobs, as one struct whose member initializers are the documented defaults.
//
// A binary declares the options it uses (add_common_options, add_client_options, or a few by
// name with add_options), parses them with its option_set, then calls load_settings: options it
// did not declare keep their defaults. Loading also checks what single options cannot: the
// retry and hedge delay ranges, and a request deadline no shorter than the POST timeout.
// ETL_HOME_URL, when unset, is ETL_SOURCE_URL + "/animals/v1/home".
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <boost/system/result.hpp>

#include "etl/config/option_set.hpp"
#include "etl/http/client.hpp"
#include "etl/log/logging.hpp"

namespace etl {

// What a redelivered batch found "posting" (in doubt) does; see docs/architecture.md.
enum class in_doubt_policy { skip, resend };
std::string_view to_string(in_doubt_policy policy) noexcept;

struct settings {
  std::string listen_host = "127.0.0.1";  // ETL_LISTEN, split; "0.0.0.0" for ":port"
  std::uint16_t listen_port = 8000;
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string database_url = "postgresql://etl@127.0.0.1:5432/etl";
  std::string source_url = "http://127.0.0.1:3123";
  std::string home_url = "http://127.0.0.1:3123/animals/v1/home";
  std::string audit_dir = "./audit";
  std::string output_dir = "./output";  // files sinks write under it
  std::string pipelines_dir;            // a folder of the user's own pipeline specs; empty: none
  int worker_processes = 2;
  int concurrency = 64;                  // in-flight source requests per worker process
  bool adaptive_concurrency = true;      // move the source's limit within [4, concurrency]
  std::optional<std::string> api_token;  // never log it: describe() prints only "set"
  etl::log_format log_format = etl::log_format::text;
  spdlog::level::level_enum log_level = spdlog::level::info;
  in_doubt_policy in_doubt = in_doubt_policy::skip;
  milliseconds in_doubt_wait{20'000};

  // HTTP client knobs; client_options() maps them onto http_client_options.
  int retry_attempts = 6;
  milliseconds retry_base_delay{50};
  milliseconds retry_max_delay{2'000};
  milliseconds retry_after_max{10'000};
  milliseconds connect_timeout{2'000};
  milliseconds get_timeout{10'000};
  milliseconds post_timeout{30'000};  // always > 15 s: a paused POST may still land
  milliseconds request_deadline{120'000};
  int max_connections = 64;
  bool hedge = true;
  std::optional<milliseconds> hedge_delay;  // unset: follow the recent p95 latency
  milliseconds hedge_min_delay{50};
  milliseconds hedge_max_delay{1'000};
  double hedge_budget = 0.1;

  // etl-server's listener and API; server_options() maps the first three onto the HTTP server.
  milliseconds http_read_timeout{10'000};  // one whole request, from its first byte
  milliseconds http_idle_timeout{30'000};  // a kept-alive connection waiting for its next request
  int http_max_connections = 2'048;
  milliseconds idempotency_retention{24 * 3'600'000};  // an Idempotency-Key names its task
  milliseconds ready_timeout{2'000};                   // each check of /readyz
  // Finished tasks and dead letters older than this are deleted (etl-server's clean-up).
  milliseconds retention{30LL * 24 * 3'600'000};
  // Which pipelines' schedules etl-server runs: "none", "all", or names separated by commas.
  std::string schedules = "none";
  milliseconds schedule_grace{10 * 60'000};  // a run later than this after its time is skipped
};

// Declares the contract's options: ETL_LISTEN, ETL_REDIS_URL, ETL_DATABASE_URL, ETL_SOURCE_URL,
// ETL_HOME_URL, ETL_AUDIT_DIR, ETL_OUTPUT_DIR, ETL_WORKER_PROCESSES, ETL_CONCURRENCY,
// ETL_API_TOKEN, ETL_LOG_FORMAT, ETL_LOG_LEVEL, ETL_IN_DOUBT, ETL_IN_DOUBT_WAIT. Throws
// std::logic_error when one is already declared (a bug).
void add_common_options(option_set& options);

// Declares the HTTP client's options: ETL_RETRY_*, ETL_*_TIMEOUT, ETL_REQUEST_DEADLINE,
// ETL_MAX_CONNECTIONS, ETL_HEDGE*. Throws std::logic_error when one is already declared.
void add_client_options(option_set& options);

// Declares etl-server's options: ETL_HTTP_READ_TIMEOUT, ETL_HTTP_IDLE_TIMEOUT,
// ETL_HTTP_MAX_CONNECTIONS, ETL_IDEMPOTENCY_RETENTION, ETL_READY_TIMEOUT, ETL_RETENTION. Throws
// std::logic_error when one is already declared.
void add_server_options(option_set& options);

// Declares only the named options out of the groups above, for a binary that needs a few.
// Throws std::logic_error for a name that is in neither group, or already declared.
void add_options(option_set& options, std::initializer_list<std::string_view> names);

// Builds settings from parsed options; undeclared options keep the defaults above. Fails with
// option_error_kind::invalid_value when options contradict each other (a base retry delay above
// the maximum, a hedge minimum above its maximum, a request deadline below the POST timeout).
boost::system::result<settings, option_error> load_settings(const option_values& values);

// For main(): load_settings, or print "<program>: <message>" to stderr and exit 2.
settings load_settings_or_exit(const option_values& values, std::string_view program);

// The HTTP client options these settings ask for (fields without a knob keep their defaults).
http_client_options client_options(const settings& s);

// One line for the start-up log: every setting, URLs with passwords hidden, the API token only
// as "set" or "unset".
std::string describe(const settings& s);

}  // namespace etl
