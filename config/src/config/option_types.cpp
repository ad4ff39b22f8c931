#include "etl/config/option_types.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "etl/http/url.hpp"

namespace etl {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// A plain decimal number as the whole of `text`: from_chars alone would accept a prefix.
template <class T>
std::optional<T> parse_whole(std::string_view text) noexcept {
  if (text.empty() || text.front() == '+') {
    return std::nullopt;
  }
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) {
      out += sep;
    }
    out += w;
  }
  return out;
}

// The shortest decimal that reads back as `v`, for messages and defaults ("0.1", not "0.100000").
std::string format_number(double v) {
  return fmt::format("{}", v);
}

}  // namespace

std::optional<bool> parse_bool(std::string_view text) noexcept {
  for (const std::string_view yes : {"true", "1", "yes"}) {
    if (iequals(text, yes)) {
      return true;
    }
  }
  for (const std::string_view no : {"false", "0", "no"}) {
    if (iequals(text, no)) {
      return false;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view text) noexcept {
  return parse_whole<std::int64_t>(text);
}

std::optional<milliseconds> parse_duration(std::string_view text) noexcept {
  if (text == "0") {
    return milliseconds{0};
  }
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return std::nullopt;
  }
  const auto count = parse_whole<std::int64_t>(text.substr(0, digits));
  const std::string_view unit = text.substr(digits);
  std::int64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1'000;
  } else if (unit == "m") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  }
  if (!count || factor == 0 || *count > std::numeric_limits<std::int64_t>::max() / factor) {
    return std::nullopt;
  }
  return milliseconds{*count * factor};
}

std::optional<double> parse_number(std::string_view text) noexcept {
  auto v = parse_whole<double>(text);
  if (!v || !std::isfinite(*v)) {
    return std::nullopt;
  }
  return v;
}

std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms != 0 && ms % 1'000 == 0) {
    return std::to_string(ms / 1'000) + "s";
  }
  return std::to_string(ms) + "ms";
}

option_spec string_option(std::string name, std::optional<std::string> default_value,
                          std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = "<text>",
                   .default_text = std::move(default_value)};
  spec.parse = [](std::string_view text) -> value_result {
    if (text.empty()) {
      return value_problem{"must not be empty"};
    }
    return option_value{std::string(text)};
  };
  return spec;
}

option_spec secret_option(std::string name, std::string help) {
  option_spec spec{.name = std::move(name), .help = std::move(help), .value_hint = "<secret>"};
  spec.secret = true;
  spec.parse = [](std::string_view text) -> value_result {
    for (const char c : text) {
      if (c <= ' ' || c >= 0x7f) {
        return value_problem{"must be printable ASCII without spaces"};
      }
    }
    if (text.empty()) {
      return value_problem{"must not be empty"};
    }
    return option_value{std::string(text)};
  };
  return spec;
}

option_spec int_option(std::string name, std::int64_t default_value, std::int64_t min,
                       std::int64_t max, std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = fmt::format("<{}..{}>", min, max),
                   .default_text = std::to_string(default_value)};
  spec.parse = [min, max](std::string_view text) -> value_result {
    const auto v = parse_integer(text);
    if (!v || *v < min || *v > max) {
      return value_problem{fmt::format("must be an integer from {} to {}", min, max)};
    }
    return option_value{*v};
  };
  return spec;
}

option_spec bool_option(std::string name, bool default_value, std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = "<bool>",
                   .default_text = default_value ? "true" : "false",
                   .is_bool = true};
  spec.parse = [](std::string_view text) -> value_result {
    const auto v = parse_bool(text);
    if (!v) {
      return value_problem{"must be true or false (also accepted: 1/0, yes/no)"};
    }
    return option_value{*v};
  };
  return spec;
}

option_spec duration_option(std::string name, std::optional<milliseconds> default_value,
                            milliseconds min, milliseconds max, std::string help) {
  option_spec spec{.name = std::move(name), .help = std::move(help), .value_hint = "<duration>"};
  if (default_value) {
    spec.default_text = format_duration(*default_value);
  }
  spec.parse = [min, max](std::string_view text) -> value_result {
    const auto range = fmt::format("from {} to {}", format_duration(min), format_duration(max));
    const auto v = parse_duration(text);
    if (!v) {
      return value_problem{"must be a duration with a unit (ms, s, m or h) " + range +
                           ", e.g. '250ms' or '20s'"};
    }
    if (*v < min || *v > max) {
      return value_problem{"must be a duration " + range};
    }
    return option_value{*v};
  };
  return spec;
}

option_spec number_option(std::string name, double default_value, double min, double max,
                          std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = fmt::format("<{}..{}>", format_number(min), format_number(max)),
                   .default_text = format_number(default_value)};
  spec.parse = [min, max](std::string_view text) -> value_result {
    const auto v = parse_number(text);
    if (!v || *v < min || *v > max) {
      return value_problem{
          fmt::format("must be a number from {} to {}", format_number(min), format_number(max))};
    }
    return option_value{*v};
  };
  return spec;
}

option_spec choice_option(std::string name, std::string default_value,
                          std::vector<std::string> choices, std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = join(choices, "|"),
                   .default_text = std::move(default_value)};
  spec.parse = [choices = std::move(choices)](std::string_view text) -> value_result {
    for (const auto& c : choices) {
      if (c == text) {
        return option_value{c};
      }
    }
    return value_problem{"must be one of " + join(choices, ", ")};
  };
  return spec;
}

option_spec url_option(std::string name, std::optional<std::string> default_value,
                       std::vector<std::string> schemes, std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = "<" + join(schemes, "|") + " URL>",
                   .default_text = std::move(default_value)};
  spec.parse = [schemes = std::move(schemes)](std::string_view text) -> value_result {
    std::string why;
    auto u = parse_url(text, &why);
    if (!u) {
      return value_problem{"is not a valid URL (" + why + ")"};
    }
    for (const auto& s : schemes) {
      if (u->scheme == s) {
        return option_value{std::string(text)};
      }
    }
    return value_problem{"must use the " + join(schemes, " or ") + " scheme, not " + u->scheme};
  };
  return spec;
}

option_spec address_option(std::string name, std::string default_value, std::string help) {
  option_spec spec{.name = std::move(name),
                   .help = std::move(help),
                   .value_hint = "<host:port>",
                   .default_text = std::move(default_value)};
  spec.parse = [](std::string_view text) -> value_result {
    std::string why;
    if (!parse_host_port(text, &why)) {
      return value_problem{"is not a host:port address (" + why + ")"};
    }
    return option_value{std::string(text)};
  };
  return spec;
}

}  // namespace etl
