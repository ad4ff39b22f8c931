#include "etl/test/sim_process.hpp"

#include <charconv>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/core/error.hpp"
#include "etl/test/http.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

result<boost::json::value> fetch_json(std::uint16_t port, std::string_view target) {
  auto reply = http_get(port, target);
  if (!reply) {
    return reply.error();
  }
  if (reply->status != 200) {
    return make_error_code(errc::http_status);
  }
  error_code ec;
  auto value = boost::json::parse(reply->body, ec);
  if (ec) {
    return make_error_code(errc::parse_error);
  }
  return value;
}

template <class T>
result<T> fail(std::string* why, error_code ec, std::string message) {
  if (why != nullptr) {
    *why = std::move(message);
  }
  return ec;
}

}  // namespace

std::string bin_path(std::string_view name) {
  return fmt::format("{}/{}", bin_dir, name);
}

result<sim_process> sim_process::start(const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout, std::string* why) {
  return start_binary("animals-sim", args, timeout, why);
}

result<sim_process> sim_process::start_binary(std::string_view binary,
                                              const std::vector<std::string>& args,
                                              std::chrono::milliseconds timeout, std::string* why) {
  const std::string path = bin_path(binary);
  std::vector<std::string> full_args{"--port", "0"};
  full_args.insert(full_args.end(), args.begin(), args.end());
  auto child = child_process::start(path, full_args);
  if (!child) {
    return fail<sim_process>(why, child.error(),
                             fmt::format("cannot start {}: {}", path, child.error().message()));
  }
  const auto line = child->wait_for_line("listening ", timeout);
  if (!line) {
    // stdout closes as the child exits, a moment before it can be reaped: wait that moment.
    const auto grace =
        child->stdout_closed() ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(0);
    if (const auto status = child->wait(grace)) {
      return fail<sim_process>(why, make_error_code(errc::timeout),
                               fmt::format("{} exited with status {} before listening "
                                           "(its reason is on stderr)",
                                           binary, *status));
    }
    return fail<sim_process>(
        why, make_error_code(errc::timeout),
        fmt::format("{} printed no listening line within {} ms", binary, timeout.count()));
  }
  const auto colon = line->rfind(':');
  unsigned port = 0;
  const char* first = line->data() + (colon == std::string::npos ? line->size() : colon + 1);
  const char* last = line->data() + line->size();
  const auto [end, ec] = std::from_chars(first, last, port);
  if (colon == std::string::npos || ec != std::errc{} || end != last || port == 0 || port > 65535) {
    return fail<sim_process>(why, make_error_code(errc::parse_error),
                             fmt::format("unexpected listening line '{}'", *line));
  }
  return sim_process(std::move(*child), static_cast<std::uint16_t>(port));
}

std::string sim_process::base_url() const {
  return fmt::format("http://127.0.0.1:{}", port_);
}

result<boost::json::value> sim_process::report() const {
  return fetch_json(port_, "/sim/report");
}

result<boost::json::value> sim_process::config() const {
  return fetch_json(port_, "/sim/config");
}

error_code sim_process::reset() const {
  auto reply = http_post(port_, "/sim/reset", {});
  if (!reply) {
    return reply.error();
  }
  return reply->status == 200 ? error_code{} : make_error_code(errc::http_status);
}

}  // namespace etl::test
