// URLs and listen addresses as the service's configuration writes them: parsed once at start-up
// into their parts, so that a typo fails early with a reason instead of at the first request.
//
// Only the schemes the service speaks are accepted: http, redis, postgresql/postgres. https is
// rejected on purpose: the project has no TLS. IPv6 literals go in brackets ("[::1]:8000").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etl/core/aliases.hpp"

namespace etl {

struct url {
  std::string scheme;      // lower case: "http", "redis", "postgresql" or "postgres"
  std::string user;        // percent-decoded, empty when absent
  std::string password;    // percent-decoded, empty when absent
  std::string host;        // a name or an address; an IPv6 address without its brackets
  std::uint16_t port = 0;  // the scheme's default when the URL has none
  std::string target;      // path and query as written (fragment dropped), "/" when empty

  // "scheme://host:port" (IPv6 hosts in brackets): what identifies a connection pool.
  std::string origin() const;
  // The whole URL with the password replaced by "***": safe to log.
  std::string redacted() const;
};

// `text` with every byte outside [A-Za-z0-9] and `safe` written as %XX (upper-case hex): a
// query value (safe "-._~", RFC 3986's unreserved) or a folder name (safe "._-").
std::string percent_encode(std::string_view text, std::string_view safe);

// `target` (a path and query) with the value of every query parameter named in `secret_names`
// replaced by "***" ("/x?user_key=abc&a=1" -> "/x?user_key=***&a=1"): a request target that
// carries a secret, made fit for a log line or an error text.
std::string redact_query(std::string_view target, const std::vector<std::string>& secret_names);

// Parses an absolute URL "scheme://[user[:password]@]host[:port][/path][?query][#fragment]".
// Default ports: http 80, redis 6379, postgresql/postgres 5432. Fails with errc::invalid_url for
// no scheme, an unsupported scheme (https included), an empty host, a bad or out-of-range port,
// spaces, control characters or a bad percent-escape; `why`, when given, receives a reason.
result<url> parse_url(std::string_view text, std::string* why = nullptr);

// Parses a listen address "host:port" (ETL_LISTEN): "127.0.0.1:8000", "localhost:8000",
// "[::1]:8000", and ":8000" meaning every IPv4 interface (host "0.0.0.0"). Port 0 is allowed
// and lets the system choose one (tests use it). Fails with errc::invalid_url when the port is
// missing, bad or out of range, the host is malformed, or an IPv6 address lacks its brackets;
// `why`, when given, receives a reason.
result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text,
                                                              std::string* why = nullptr);

}  // namespace etl
