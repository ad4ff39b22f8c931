#include "etl/log/logging.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <iterator>
#include <limits>

#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace etl {
namespace {

constexpr std::array<std::string_view, 7> level_names{"trace", "debug",    "info", "warn",
                                                      "error", "critical", "off"};

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s) noexcept {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if (b0 < 0x80) {
    return 1;
  } else if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    cp = b0 & 0x1fu;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    cp = b0 & 0x0fu;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (s.size() < len) {
    return 0;
  }
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xc0u) != 0x80u) {
      return 0;
    }
    cp = (cp << 6) | (b & 0x3fu);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  const bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
  if (overlong || surrogate || cp > 0x10ffff) {
    return 0;
  }
  return len;
}

// Appends `text` as the inside of a JSON string. Log messages carry whatever a peer sent us
// (bodies, headers), so bytes that are not UTF-8 become U+FFFD rather than an unparseable line.
void append_json_escaped(spdlog::memory_buf_t& dest, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(text.substr(i));
      if (len == 0) {
        append(dest, "\\ufffd");
        ++i;
      } else {
        append(dest, text.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        append(dest, "\\\"");
        break;
      case '\\':
        append(dest, "\\\\");
        break;
      case '\n':
        append(dest, "\\n");
        break;
      case '\r':
        append(dest, "\\r");
        break;
      case '\t':
        append(dest, "\\t");
        break;
      case '\b':
        append(dest, "\\b");
        break;
      case '\f':
        append(dest, "\\f");
        break;
      default:
        if (c < 0x20) {
          const std::array<char, 6> esc{'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
          dest.append(esc.data(), esc.data() + esc.size());
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

class line_formatter final : public spdlog::formatter {
 public:
  line_formatter(log_format format, std::string process_name)
      : format_(format), process_name_(std::move(process_name)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view level = to_string(msg.level);
    // Read on every line: a supervisor forks its workers, and a child must log its own pid.
    const auto pid = static_cast<long>(::getpid());
    if (format_ == log_format::text) {
      append_timestamp(msg.time, dest);
      dest.push_back(' ');
      append(dest, level);
      dest.push_back(' ');
      append(dest, process_name_);
      fmt::format_to(std::back_inserter(dest), "[{}] ", pid);
      append(dest, payload);
    } else {
      append(dest, R"({"ts":")");
      append_timestamp(msg.time, dest);
      append(dest, R"(","level":")");
      append(dest, level);
      append(dest, R"(","process":")");
      append_json_escaped(dest, process_name_);
      fmt::format_to(std::back_inserter(dest), R"(","pid":{},"msg":")", pid);
      append_json_escaped(dest, payload);
      append(dest, "\"}");
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<line_formatter>(format_, process_name_);
  }

 private:
  // "2026-11-23T11:20:34.123Z". The part up to the seconds is cached: many lines share it, and
  // gmtime_r is the expensive step. The formatter is used under its sink's lock, so no race.
  void append_timestamp(spdlog::log_clock::time_point tp, spdlog::memory_buf_t& dest) {
    using namespace std::chrono;
    const auto ms = time_point_cast<milliseconds>(tp).time_since_epoch().count();
    const auto secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    const auto millis = static_cast<int>(ms - secs * 1000);
    if (secs != cached_second_) {
      const std::time_t t = static_cast<std::time_t>(secs);
      std::tm tm{};
      ::gmtime_r(&t, &tm);
      cached_length_ = std::strftime(cached_.data(), cached_.size(), "%Y-%m-%dT%H:%M:%S", &tm);
      cached_second_ = secs;
    }
    dest.append(cached_.data(), cached_.data() + cached_length_);
    fmt::format_to(std::back_inserter(dest), ".{:03}Z", millis);
  }

  log_format format_;
  std::string process_name_;
  std::int64_t cached_second_ = std::numeric_limits<std::int64_t>::min();
  std::array<char, 32> cached_{};
  std::size_t cached_length_ = 0;
};

}  // namespace

std::optional<log_format> parse_log_format(std::string_view name) noexcept {
  if (name == "text") {
    return log_format::text;
  }
  if (name == "json") {
    return log_format::json;
  }
  return std::nullopt;
}

std::string_view to_string(log_format format) noexcept {
  return format == log_format::json ? "json" : "text";
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) noexcept {
  for (std::size_t i = 0; i < level_names.size(); ++i) {
    if (level_names[i] == name) {
      return static_cast<spdlog::level::level_enum>(i);
    }
  }
  return std::nullopt;
}

std::string_view to_string(spdlog::level::level_enum level) noexcept {
  const auto i = static_cast<std::size_t>(level);
  return i < level_names.size() ? level_names[i] : std::string_view("unknown");
}

std::unique_ptr<spdlog::formatter> make_log_formatter(log_format format, std::string process_name) {
  return std::make_unique<line_formatter>(format, std::move(process_name));
}

void init_logging(log_format format, spdlog::level::level_enum level,
                  std::string_view process_name) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(make_log_formatter(format, std::string(process_name)));
  auto logger = std::make_shared<spdlog::logger>(std::string(process_name), std::move(sink));
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace etl
