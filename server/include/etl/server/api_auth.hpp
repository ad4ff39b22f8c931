// Bearer-token authentication of the HTTP API (ETL_API_TOKEN). With a token configured, every
// request needs `Authorization: Bearer <token>`, except the open ones: GET /healthz, /readyz,
// /metrics and the dashboard's files, `/` and `/dashboard/*` (they hold no data; its script asks
// for the token). The token is compared in constant time and never logged, nor echoed in a reply.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etl/server/server_message.hpp"

namespace etl {

// Whether `a` equals `b`, in a time that depends on their lengths only, never on where they
// first differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

class api_auth {
 public:
  // No token: every request passes.
  explicit api_auth(std::optional<std::string> token) : token_(std::move(token)) {}

  // Nothing when the request may proceed; otherwise the 401 reply (JSON, with
  // `WWW-Authenticate: Bearer`) saying whether the header is missing, malformed or wrong.
  // `path` is the request's path with a trailing slash removed.
  std::optional<server_reply> check(const server_request& req, std::string_view path) const;

  bool enabled() const noexcept { return token_.has_value(); }

 private:
  std::optional<std::string> token_;
};

// Paths any client may GET without a token.
bool is_open_path(std::string_view path) noexcept;

}  // namespace etl
