#include "etl/log/logging.hpp"

#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace etl {
namespace {

// A logger that writes through the project's formatter into a string the test reads.
struct captured_logger {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;

  explicit captured_logger(log_format format) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    sink->set_formatter(make_log_formatter(format, "etl-test"));
    logger = std::make_shared<spdlog::logger>("captured", std::move(sink));
    logger->set_level(spdlog::level::trace);
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) {
      result.push_back(line);
    }
    return result;
  }
};

// Formats one message with a fixed time, so that the timestamp can be checked exactly.
std::string format_at(log_format format, std::chrono::system_clock::time_point when,
                      spdlog::level::level_enum level, std::string_view text) {
  auto formatter = make_log_formatter(format, "etl-worker");
  spdlog::details::log_msg msg(when, spdlog::source_loc{}, "x", level,
                               spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t buf;
  formatter->format(msg, buf);
  return std::string(buf.data(), buf.size());
}

std::chrono::system_clock::time_point example_time() {
  // 2026-11-23T11:20:34.123Z
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1'795'432'834'123));
}

boost::json::object parse_line(const std::string& line) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << "not JSON: " << line << " (" << ec.message() << ")";
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << line;
    return {};
  }
  return v.as_object();
}

TEST(log_format, text_line_has_timestamp_level_process_pid_and_message) {
  const std::string line =
      format_at(log_format::text, example_time(), spdlog::level::info, "batch 7 posted");
  EXPECT_EQ(line, "2026-11-23T11:20:34.123Z info etl-worker[" + std::to_string(::getpid()) +
                      "] batch 7 posted\n");
}

TEST(log_format, milliseconds_are_zero_padded) {
  const auto when = example_time() - std::chrono::milliseconds(120);  // .003
  const std::string line = format_at(log_format::text, when, spdlog::level::warn, "m");
  EXPECT_EQ(line.substr(0, 30), "2026-11-23T11:20:34.003Z warn ");
}

TEST(log_format, json_line_carries_every_field) {
  const std::string line =
      format_at(log_format::json, example_time(), spdlog::level::err, "home answered 503");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  const auto obj = parse_line(line);
  EXPECT_EQ(obj.at("ts").as_string(), "2026-11-23T11:20:34.123Z");
  EXPECT_EQ(obj.at("level").as_string(), "error");
  EXPECT_EQ(obj.at("process").as_string(), "etl-worker");
  EXPECT_EQ(obj.at("pid").as_int64(), ::getpid());
  EXPECT_EQ(obj.at("msg").as_string(), "home answered 503");
  EXPECT_EQ(obj.size(), 5u);
}

TEST(log_format, json_escapes_quotes_backslashes_and_control_characters) {
  captured_logger log(log_format::json);
  const std::string tricky = "say \"hi\" \\ path\nnext\tline\r\x01\x1f end";
  log.logger->info("{}", tricky);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u) << "a newline in a message must not split the JSON line";
  const auto obj = parse_line(lines[0]);
  EXPECT_EQ(obj.at("msg").as_string(), tricky);
  EXPECT_EQ(obj.at("level").as_string(), "info");
  EXPECT_EQ(obj.at("process").as_string(), "etl-test");
}

TEST(log_format, json_keeps_utf8_and_replaces_invalid_bytes) {
  captured_logger log(log_format::json);
  log.logger->warn(
      "Gr\xc3\xbc\xc3\x9f"
      "e \xe2\x9c\x93");
  log.logger->warn("bad \xff byte, cut \xc3");
  log.logger->warn("overlong \xc0\xaf, surrogate \xed\xa0\x80");
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(parse_line(lines[0]).at("msg").as_string(),
            "Gr\xc3\xbc\xc3\x9f"
            "e \xe2\x9c\x93");
  EXPECT_EQ(parse_line(lines[1]).at("msg").as_string(), "bad \xef\xbf\xbd byte, cut \xef\xbf\xbd");
  EXPECT_EQ(parse_line(lines[2]).at("msg").as_string(),
            "overlong \xef\xbf\xbd\xef\xbf\xbd, surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(parse_line(lines[2]).at("level").as_string(), "warn");
}

TEST(log_format, one_json_object_per_line) {
  captured_logger log(log_format::json);
  log.logger->debug("first");
  log.logger->critical("second");
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(parse_line(lines[0]).at("level").as_string(), "debug");
  EXPECT_EQ(parse_line(lines[1]).at("level").as_string(), "critical");
  EXPECT_EQ(parse_line(lines[1]).at("msg").as_string(), "second");
}

TEST(log_format, text_lines_through_a_logger) {
  captured_logger log(log_format::text);
  log.logger->info("hello {}", 42);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::regex shape(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info etl-test\[\d+\] hello 42)");
  EXPECT_TRUE(std::regex_match(lines[0], shape)) << lines[0];
}

TEST(log_format, cloned_formatter_formats_the_same) {
  auto formatter = make_log_formatter(log_format::json, "etl-server");
  auto copy = formatter->clone();
  spdlog::details::log_msg msg(example_time(), spdlog::source_loc{}, "x", spdlog::level::info,
                               "same");
  spdlog::memory_buf_t a;
  spdlog::memory_buf_t b;
  formatter->format(msg, a);
  copy->format(msg, b);
  EXPECT_EQ(std::string(a.data(), a.size()), std::string(b.data(), b.size()));
}

TEST(log_names, formats_parse_and_print) {
  EXPECT_EQ(parse_log_format("text"), log_format::text);
  EXPECT_EQ(parse_log_format("json"), log_format::json);
  EXPECT_FALSE(parse_log_format("JSON").has_value());
  EXPECT_FALSE(parse_log_format("").has_value());
  EXPECT_EQ(to_string(log_format::json), "json");
  EXPECT_EQ(to_string(log_format::text), "text");
}

TEST(log_names, levels_parse_and_print) {
  EXPECT_EQ(parse_log_level("trace"), spdlog::level::trace);
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("info"), spdlog::level::info);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_log_level("critical"), spdlog::level::critical);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  EXPECT_FALSE(parse_log_level("warning").has_value());
  EXPECT_FALSE(parse_log_level("verbose").has_value());
  EXPECT_EQ(to_string(spdlog::level::err), "error");
  EXPECT_EQ(to_string(spdlog::level::warn), "warn");
}

TEST(init_logging, installs_a_named_default_logger_at_the_level) {
  init_logging(log_format::json, spdlog::level::warn, "etl-unit");
  auto logger = spdlog::default_logger();
  ASSERT_NE(logger, nullptr);
  EXPECT_EQ(logger->name(), "etl-unit");
  EXPECT_EQ(logger->level(), spdlog::level::warn);
  EXPECT_FALSE(logger->should_log(spdlog::level::info));

  testing::internal::CaptureStderr();
  spdlog::warn("to \"stderr\"");
  spdlog::info("filtered out");
  const std::string err = testing::internal::GetCapturedStderr();
  const auto obj = parse_line(err);
  EXPECT_EQ(obj.at("msg").as_string(), "to \"stderr\"");
  EXPECT_EQ(obj.at("process").as_string(), "etl-unit");
  EXPECT_EQ(err.find("filtered out"), std::string::npos);

  init_logging(log_format::text, spdlog::level::info, "etl-again");
  EXPECT_EQ(spdlog::default_logger()->name(), "etl-again");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
}

}  // namespace
}  // namespace etl
