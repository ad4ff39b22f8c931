#include "etl/pipelines/params.hpp"

#include <charconv>
#include <chrono>
#include <random>

#include "etl/pipelines/records.hpp"

namespace etl {
namespace {

namespace js = boost::json;

param_error invalid(const param_spec& p, const std::string& why) {
  return {"invalid_parameter", p.name + " " + why};
}

// A flag's text in a query string; an empty value (`?audit_mode=`) is false.
std::optional<bool> bool_text(std::string_view s) {
  if (s == "true" || s == "1" || s == "yes" || s == "on")
    return true;
  if (s == "false" || s == "0" || s == "no" || s == "off" || s.empty())
    return false;
  return std::nullopt;
}

boost::system::result<js::value, param_error> typed(const param_spec& p, const js::value& v,
                                                    bool from_query) {
  const std::string_view text = v.is_string() ? std::string_view(v.get_string()) : "";
  switch (p.type) {
    case param_type::boolean: {
      if (from_query) {
        auto b = bool_text(text);
        if (!b)
          return invalid(p, "must be true or false, got '" + std::string(text) + "'");
        return js::value(*b);
      }
      if (!v.is_bool())
        return invalid(p, "must be a boolean");
      return v;
    }
    case param_type::integer: {
      std::int64_t n = 0;
      if (from_query) {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
          return invalid(p, "must be an integer, got '" + std::string(text) + "'");
      } else if (v.is_int64()) {
        n = v.get_int64();
      } else {
        return invalid(p, "must be an integer");
      }
      if ((p.min && n < *p.min) || (p.max && n > *p.max)) {
        std::string range = p.min ? std::to_string(*p.min) : std::string("any");
        range += "..";
        range += p.max ? std::to_string(*p.max) : std::string("any");
        return invalid(p, "must be in " + range + ", got " + std::to_string(n));
      }
      return js::value(n);
    }
    case param_type::string:
      if (!v.is_string())
        return invalid(p, "must be a string");
      return v;
    case param_type::date:
      if (!v.is_string() || !is_date(v.get_string()))
        return invalid(p, "must be a date, YYYY-MM-DD");
      return v;
  }
  return invalid(p, "has an unknown type");
}

// `digits` random hex digits, from the system's random device (a seed nobody chose).
std::string random_hex(int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device device;
  std::string out;
  for (int i = 0; i < digits; ++i)
    out += hex[device() & 0xf];
  return out;
}

// A default as the task records it: "today" and "yesterday" become dates.
js::value default_of(const param_spec& p, std::int32_t today) {
  if (p.type == param_type::date) {
    const auto& text = std::get<std::string>(*p.default_value);
    if (text == "today")
      return js::value(date_text(today));
    if (text == "yesterday")
      return js::value(date_text(today - 1));
  }
  return std::visit([](const auto& x) { return js::value(x); }, *p.default_value);
}

}  // namespace

std::optional<window_range> window_range_of(const pipeline_spec& spec, const js::object& params) {
  if (!spec.windows)
    return std::nullopt;
  const auto* start = params.if_contains(spec.windows->start_param);
  const auto* end = params.if_contains(spec.windows->end_param);
  if (start == nullptr || end == nullptr || !start->is_string() || !end->is_string())
    return std::nullopt;
  const auto first = date_days(start->get_string());
  const auto last = date_days(end->get_string());
  if (!first || !last)
    return std::nullopt;
  return window_range{*first, std::int64_t{*last} - *first};
}

std::optional<param_error> check_windows(const pipeline_spec& spec, const js::object& params) {
  const auto range = window_range_of(spec, params);
  if (!range)
    return std::nullopt;
  const auto& start = spec.windows->start_param;
  const auto& end = spec.windows->end_param;
  if (range->days < 1) {
    return param_error{"invalid_parameter", end + " must be after " + start + " (the window is [" +
                                                start + ", " + end + "), days, UTC)"};
  }
  if (range->days > max_windows) {
    return param_error{"invalid_parameter", start + ".." + end + " spans " +
                                                std::to_string(range->days) + " days, more than " +
                                                std::to_string(max_windows)};
  }
  return std::nullopt;
}

boost::system::result<js::object, param_error> check_params(const pipeline_spec& spec,
                                                            const js::object& given,
                                                            bool from_query,
                                                            std::optional<std::int32_t> today) {
  js::object out;
  for (const auto& [name, value] : given) {
    const auto* p = spec.param(name);
    if (p == nullptr) {
      std::string list;
      for (const auto& q : spec.params)
        list += (list.empty() ? "" : ", ") + q.name;
      return param_error{
          "unknown_parameter",
          "unknown parameter '" + std::string(name) + "' for pipeline " + spec.name +
              (list.empty() ? " (it takes none)" : " (its parameters: " + list + ")")};
    }
    auto v = typed(*p, value, from_query);
    if (!v)
      return v.error();
    out[name] = std::move(*v);
  }
  for (const auto& p : spec.params) {
    if (out.contains(p.name))
      continue;
    if (p.random_hex > 0)
      out[p.name] = random_hex(p.random_hex);
    else if (p.default_value)
      out[p.name] = default_of(p, today.value_or(utc_day(std::chrono::system_clock::now())));
  }
  return out;
}

}  // namespace etl
