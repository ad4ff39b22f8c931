// A tiny blocking HTTP/1.1 client for tests: one request on a fresh connection to 127.0.0.1,
// with a deadline on the whole exchange. Enough to fetch /sim/report or poke an endpoint;
// services under test use the project's own client instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etl/core/aliases.hpp"

namespace etl::test {

struct http_reply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  bool keep_alive = false;  // whether the server would have kept the connection open

  // The value of the first header with this name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

inline constexpr std::chrono::milliseconds default_http_timeout{10'000};

// Sends `method target` with `body` (Content-Type: application/json when not empty) and
// `headers` to 127.0.0.1:`port` and reads the whole answer (bodies up to 64 MiB). Fails with
// errc::timeout when the exchange outlives `timeout`, or with the connection's error (refused,
// reset, closed before an answer, not HTTP). Blocks the calling thread.
result<http_reply> http_request(
    std::uint16_t port, std::string_view method, std::string_view target,
    std::string_view body = {}, std::chrono::milliseconds timeout = default_http_timeout,
    const std::vector<std::pair<std::string, std::string>>& headers = {});

// GET `target`; see http_request.
result<http_reply> http_get(std::uint16_t port, std::string_view target,
                            std::chrono::milliseconds timeout = default_http_timeout);

// POST `body` (JSON) to `target`; see http_request.
result<http_reply> http_post(std::uint16_t port, std::string_view target, std::string_view body,
                             std::chrono::milliseconds timeout = default_http_timeout);

}  // namespace etl::test
