// Private to etl_server's sources: the Beast request parser with the server's limits and its
// conversion to a `server_request`, shared by http_server.cpp (off a socket) and
// request_parsing.cpp (off bytes).
#pragma once

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "etl/core/aliases.hpp"
#include "etl/server/request_parsing.hpp"

namespace etl::detail {

using beast_request_parser = http::request_parser<http::string_body>;

// Sets the header and body limits of a fresh parser.
void apply_limits(beast_request_parser& parser, const request_limits& limits);

// The parsed request as a server_request (its body moved out; `remote` left empty).
server_request to_server_request(http::request<http::string_body>& req);

}  // namespace etl::detail
