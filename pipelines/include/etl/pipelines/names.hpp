// The naming rules of pipeline specs, shared by the spec loader and the HTTP API (which checks
// a pipeline name in a path before any lookup). Header-only: the request fuzzer uses it without
// the rest of the pipelines library.
#pragma once

#include <algorithm>
#include <string_view>

namespace etl {

// `s` is 1 to 63 bytes, starts with [a-z] and holds only [a-z0-9] and `extra`.
inline bool is_name_of(std::string_view s, char extra) noexcept {
  if (s.empty() || s.size() > 63 || s[0] < 'a' || s[0] > 'z')
    return false;
  return std::all_of(s.begin(), s.end(), [extra](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == extra;
  });
}

// A parameter's or a field's name: snake_case, [a-z][a-z0-9_]*, at most 63 bytes.
inline bool is_snake_case(std::string_view s) noexcept {
  return is_name_of(s, '_');
}

// A pipeline's name, as the API spells it: [a-z][a-z0-9-]*, at most 63 bytes ("spacex-crew").
inline bool is_pipeline_name(std::string_view s) noexcept {
  return is_name_of(s, '-');
}

}  // namespace etl
