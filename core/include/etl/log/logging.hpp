// Process-wide logging: every binary calls init_logging once at start-up (and again in a forked
// child to take its own name), then logs through spdlog's default logger to stderr.
//
// Two line formats (ETL_LOG_FORMAT):
//   text  2026-11-23T11:20:34.123Z info etl-worker[1234] message
//   json  {"ts":"2026-11-23T11:20:34.123Z","level":"info","process":"etl-worker","pid":1234,
//          "msg":"message"}   (one object per line; the message JSON-escaped, invalid UTF-8
//          replaced by U+FFFD so that every line parses)
// Timestamps are UTC with milliseconds. Level names: trace, debug, info, warn, error, critical.
// Secrets (ETL_API_TOKEN) are never passed to the logger: nothing here filters them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/formatter.h>

namespace etl {

enum class log_format { text, json };

// "text" or "json" (exactly); nothing otherwise.
std::optional<log_format> parse_log_format(std::string_view name) noexcept;
std::string_view to_string(log_format format) noexcept;

// One of "trace", "debug", "info", "warn", "error", "critical", "off"; nothing otherwise.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) noexcept;
// The level's name as the log lines write it ("warn", not spdlog's "warning").
std::string_view to_string(spdlog::level::level_enum level) noexcept;

// The formatter init_logging installs on its sink, for a test or an extra sink: writes one line
// per message, newline included, in `format`, naming `process_name` and the current pid.
std::unique_ptr<spdlog::formatter> make_log_formatter(log_format format, std::string process_name);

// Makes a logger named `process_name` that writes to stderr in `format` at `level` and above
// the default spdlog logger, replacing the previous one. Start-up only: not thread-safe against
// concurrent logging through the logger it replaces.
void init_logging(log_format format, spdlog::level::level_enum level,
                  std::string_view process_name);

}  // namespace etl
