// The plain values a request handler sees and answers: `server_request` (what the client sent,
// already parsed) and `server_reply`, and the JSON error replies every route shares. No Asio, no
// Beast: the routing, the validation and the fuzzer use these without sockets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etl {

struct server_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // the target before '?', percent-decoding left to the handler
  std::string query;   // after '?', without it
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote;  // "ip:port" of the peer, for logs

  // The value of header `name` (lower case), or empty.
  std::string_view header(std::string_view name) const noexcept;
};

struct server_reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Error details longer than this are cut (they may quote a client's value).
inline constexpr std::size_t max_error_detail_bytes = 1024;

// A JSON error reply: {"error": error, "detail": detail}, the detail made valid UTF-8 (bytes
// that are not: U+FFFD) and cut to max_error_detail_bytes (etl/core/text.hpp, storable_text).
server_reply json_error(unsigned status, std::string_view error, std::string_view detail);

// 405 for a known path asked with another method: the JSON error and an `Allow` header listing
// `allow` ("GET, POST").
server_reply method_not_allowed(std::string_view allow);

}  // namespace etl
