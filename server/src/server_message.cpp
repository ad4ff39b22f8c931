#include "etl/server/server_message.hpp"

#include <boost/json.hpp>

#include "etl/core/text.hpp"

namespace etl {

std::string_view server_request::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (k == name)
      return v;
  }
  return {};
}

server_reply json_error(unsigned status, std::string_view error, std::string_view detail) {
  boost::json::object o;
  o["error"] = error;
  // Details quote what the client sent (a path, a parameter): made valid UTF-8 so that the
  // reply stays valid JSON (the fuzzer found a path with bytes 0xaa echoed raw), and bounded.
  o["detail"] = storable_text(detail, max_error_detail_bytes);
  return server_reply{status, "application/json", boost::json::serialize(o), {}};
}

server_reply method_not_allowed(std::string_view allow) {
  auto reply = json_error(405, "method_not_allowed", "this path answers " + std::string(allow));
  reply.headers.emplace_back("Allow", std::string(allow));
  return reply;
}

}  // namespace etl
