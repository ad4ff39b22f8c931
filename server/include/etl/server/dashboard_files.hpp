// The dashboard's files as the build embeds them (server/dashboard/, turned into string constants
// by cmake/etl_embed_files.cmake). Read them through dashboard.hpp.
#pragma once

#include <string_view>

namespace etl::detail {

extern const std::string_view dashboard_index_html;
extern const std::string_view dashboard_app_js;
extern const std::string_view dashboard_style_css;

}  // namespace etl::detail
