#include "etl/pipelines/params.hpp"

#include <charconv>

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

}  // namespace

boost::system::result<js::object, param_error> check_params(const pipeline_spec& spec,
                                                            const js::object& given,
                                                            bool from_query) {
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
    if (out.contains(p.name) || !p.default_value)
      continue;
    out[p.name] = std::visit([](const auto& x) { return js::value(x); }, *p.default_value);
  }
  return out;
}

}  // namespace etl
