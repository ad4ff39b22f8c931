#include "etl/server/dashboard.hpp"

#include "etl/server/dashboard_files.hpp"

namespace etl {
namespace {

struct dashboard_file {
  std::string_view path;
  std::string_view content_type;
  const std::string_view* body;  // the embedded constants are defined in another unit
};

constexpr dashboard_file files[] = {
    {"/", "text/html; charset=utf-8", &detail::dashboard_index_html},
    {"/dashboard/app.js", "text/javascript; charset=utf-8", &detail::dashboard_app_js},
    {"/dashboard/style.css", "text/css; charset=utf-8", &detail::dashboard_style_css},
};

// Only this origin's files and API; `img-src data:` for the empty icon that keeps browsers from
// asking for /favicon.ico.
constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const dashboard_file* find_file(std::string_view path) noexcept {
  for (const auto& f : files) {
    if (f.path == path)
      return &f;
  }
  return nullptr;
}

}  // namespace

bool is_dashboard_path(std::string_view path) noexcept {
  return find_file(path) != nullptr;
}

server_reply dashboard_reply(std::string_view path) {
  const auto* f = find_file(path);
  if (!f)
    return json_error(404, "not_found", "no dashboard file " + std::string(path));
  server_reply r{200, std::string(f->content_type), std::string(*f->body), {}};
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Content-Security-Policy", std::string(content_security_policy));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

}  // namespace etl
