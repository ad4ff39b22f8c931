#include "etl/server/api_auth.hpp"

#include <algorithm>
#include <cctype>

#include "etl/server/dashboard.hpp"

namespace etl {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

server_reply unauthorized(std::string_view detail, bool invalid_token) {
  auto reply = json_error(401, "unauthorized", detail);
  reply.headers.emplace_back("WWW-Authenticate",
                             invalid_token ? "Bearer error=\"invalid_token\"" : "Bearer");
  return reply;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Every byte up to the longer length is compared, so the time says nothing about where the
  // first difference is; a length difference alone also makes the result false.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

bool is_open_path(std::string_view path) noexcept {
  return path == "/healthz" || path == "/readyz" || path == "/metrics" || is_dashboard_path(path);
}

std::optional<server_reply> api_auth::check(const server_request& req,
                                            std::string_view path) const {
  if (!token_ || (req.method == "GET" && is_open_path(path)))
    return std::nullopt;
  const std::string_view header = req.header("authorization");
  if (header.empty()) {
    return unauthorized("this server requires a token: send 'Authorization: Bearer <token>'",
                        false);
  }
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme)) {
    return unauthorized("the Authorization header must be 'Bearer <token>'", false);
  }
  std::string_view presented = header.substr(scheme.size());
  while (!presented.empty() && presented.front() == ' ')
    presented.remove_prefix(1);
  if (!constant_time_equal(presented, *token_))
    return unauthorized("the bearer token is not valid", true);
  return std::nullopt;
}

}  // namespace etl
