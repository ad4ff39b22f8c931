#include "etl/test/http.hpp"

#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "etl/core/error.hpp"

namespace etl::test {
namespace {

using tcp = net::ip::tcp;
constexpr std::size_t max_reply_body = 64 * 1024 * 1024;
constexpr auto awaitable_tuple = net::as_tuple(net::use_awaitable);

error_code map_error(error_code ec) {
  return ec == beast::error::timeout ? make_error_code(errc::timeout) : ec;
}

struct request_spec {
  std::uint16_t port;
  std::string_view method;
  std::string_view target;
  std::string_view body;
  std::chrono::steady_clock::time_point deadline;
  const std::vector<std::pair<std::string, std::string>>& headers;
};

// The whole exchange, each step bounded by the same deadline.
net::awaitable<result<http_reply>> exchange(const request_spec& spec) {
  beast::tcp_stream stream(co_await net::this_coro::executor);
  stream.expires_at(spec.deadline);
  auto [connect_ec] = co_await stream.async_connect(
      tcp::endpoint(net::ip::address_v4::loopback(), spec.port), awaitable_tuple);
  if (connect_ec) {
    co_return map_error(connect_ec);
  }

  http::request<http::string_body> req;
  req.version(11);
  if (const auto verb = http::string_to_verb(spec.method); verb != http::verb::unknown) {
    req.method(verb);
  } else {
    req.method_string(spec.method);
  }
  req.target(spec.target);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(spec.port));
  req.set(http::field::user_agent, "etl-test");
  if (!spec.body.empty()) {
    req.set(http::field::content_type, "application/json");
  }
  for (const auto& [name, value] : spec.headers) {
    req.set(name, value);
  }
  req.keep_alive(false);
  req.body() = spec.body;
  req.prepare_payload();
  stream.expires_at(spec.deadline);
  auto [write_ec, written] = co_await http::async_write(stream, req, awaitable_tuple);
  if (write_ec) {
    co_return map_error(write_ec);
  }

  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  do {
    // Interim answers (100 Continue to an Expect header) come before the real one: skip them.
    parser.emplace();
    parser->body_limit(max_reply_body);
    stream.expires_at(spec.deadline);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, *parser, awaitable_tuple);
    if (read_ec) {
      co_return map_error(read_ec);
    }
  } while (parser->get().result_int() / 100 == 1);
  auto res = parser->release();
  http_reply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.keep_alive = res.keep_alive();
  for (const auto& field : res) {
    reply.headers.emplace_back(field.name_string(), field.value());
  }
  reply.body = std::move(res.body());
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return reply;
}

}  // namespace

std::string http_reply::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

result<http_reply> http_request(std::uint16_t port, std::string_view method,
                                std::string_view target, std::string_view body,
                                std::chrono::milliseconds timeout,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  // Beast's synchronous calls cannot time out, so the exchange runs as a coroutine on a private
  // io_context that this thread drives to completion: blocking for the caller, yet bounded.
  net::io_context context(1);
  const request_spec spec{port,   method, target, body, std::chrono::steady_clock::now() + timeout,
                          headers};
  result<http_reply> out = make_error_code(errc::cancelled);
  net::co_spawn(context, exchange(spec), [&out](std::exception_ptr e, result<http_reply> r) {
    if (e) {
      // A bug in the helper itself (e.g. bad_alloc): logged, and rethrown out of run() so that
      // the test fails loudly.
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("test http_request: exception escaped: {}", ex.what());
      } catch (...) {
        spdlog::error("test http_request: unknown exception escaped");
      }
      std::rethrow_exception(e);
    }
    out = std::move(r);
  });
  context.run();
  return out;
}

result<http_reply> http_get(std::uint16_t port, std::string_view target,
                            std::chrono::milliseconds timeout) {
  return http_request(port, "GET", target, {}, timeout);
}

result<http_reply> http_post(std::uint16_t port, std::string_view target, std::string_view body,
                             std::chrono::milliseconds timeout) {
  return http_request(port, "POST", target, body, timeout);
}

}  // namespace etl::test
