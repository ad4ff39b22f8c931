// Reading one HTTP/1.1 request as pure functions: the Beast parser the server reads connections
// with, with the server's limits, fed from bytes, and the reply each way of failing gets. The
// server's sessions and the request fuzzer (tests/fuzz) share them, so that what is fuzzed is
// what runs. Beast stays in the .cpp files.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <variant>

#include "etl/core/aliases.hpp"
#include "etl/server/server_message.hpp"

namespace etl {

struct request_limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1 << 20;
};

struct parsed_request {
  server_request request;  // `remote` left empty
  unsigned version = 11;   // 10 or 11
  bool keep_alive = true;
  std::size_t consumed = 0;  // bytes of the input this request took; the rest is the next one
};

// The bytes end before the request does: a connection would wait for more.
struct parse_incomplete {};

// One request parsed from the start of `bytes` within `limits`: the request, the error reply
// the server answers (431 headers_too_large, 413 body_too_large, 400 bad_request), or
// parse_incomplete.
std::variant<parsed_request, server_reply, parse_incomplete> parse_request_bytes(
    std::string_view bytes, const request_limits& limits);

// The reply to a request whose reading failed with `ec`: 431, 413 or 400 bad_request for
// Beast's parse errors, nothing for timeouts, resets, EOF and partial messages (the connection
// just closes).
std::optional<server_reply> read_error_reply(const error_code& ec, const request_limits& limits);

}  // namespace etl
