#include "etl/server/request_parsing.hpp"

#include <cctype>
#include <cstdint>
#include <string>

#include <boost/beast/http/error.hpp>

#include "beast_request.hpp"

namespace etl {
namespace detail {

void apply_limits(beast_request_parser& parser, const request_limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
}

server_request to_server_request(http::request<http::string_body>& req) {
  server_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos)
    r.query = r.target.substr(q + 1);
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = std::move(req.body());
  return r;
}

}  // namespace detail

std::optional<server_reply> read_error_reply(const error_code& ec, const request_limits& limits) {
  if (ec == http::error::header_limit) {
    return json_error(
        431, "headers_too_large",
        "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  if (ec == http::error::body_limit) {
    return json_error(413, "body_too_large",
                      "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (ec.category() == make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message &&
      ec != http::error::need_more) {
    return json_error(400, "bad_request", ec.message());
  }
  return std::nullopt;
}

std::variant<parsed_request, server_reply, parse_incomplete> parse_request_bytes(
    std::string_view bytes, const request_limits& limits) {
  detail::beast_request_parser parser;
  detail::apply_limits(parser, limits);
  parser.eager(true);
  std::size_t used = 0;
  while (!parser.is_done()) {
    error_code ec;
    const auto n = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec && ec != http::error::need_more) {
      if (auto reply = read_error_reply(ec, limits))
        return std::move(*reply);
      return parse_incomplete{};
    }
    // Beast is given everything that is left each time, so taking nothing means it needs bytes
    // that are not there (a header or a chunk cut short).
    if (n == 0)
      return parse_incomplete{};
  }
  auto& req = parser.get();
  parsed_request out;
  out.version = req.version();
  out.keep_alive = req.keep_alive();
  out.request = detail::to_server_request(req);
  out.consumed = used;
  return out;
}

}  // namespace etl
