// The operator's dashboard at GET /: one HTML page, its script and its style sheet, compiled into
// the binary from server/dashboard/. The files hold no data: the script reads and drives the API
// (list, trigger, cancel) and asks for the API token when a call answers 401. Each file is served
// with `Cache-Control: no-cache` and a Content-Security-Policy that allows only this origin's
// script, style and requests (no inline script, no other site).
#pragma once

#include <string_view>

#include "etl/server/server_message.hpp"

namespace etl {

// Whether `path` names one of the dashboard's files: "/", "/dashboard/app.js",
// "/dashboard/style.css". They hold no data, so they need no API token.
bool is_dashboard_path(std::string_view path) noexcept;

// The file at `path` with its content type and headers; a 404 JSON error for any other path.
server_reply dashboard_reply(std::string_view path);

}  // namespace etl
