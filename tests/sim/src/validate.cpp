#include "etl/sim/validate.hpp"

#include <chrono>
#include <limits>

#include <boost/json.hpp>

namespace etl {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// A cursor over the datetime text: each step consumes on success only.
class scanner {
 public:
  explicit scanner(std::string_view s) : s_(s) {}

  bool digits(std::size_t n, int& out) {
    if (s_.size() - i_ < n) {
      return false;
    }
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      if (!is_digit(s_[i_ + k])) {
        return false;
      }
      v = v * 10 + (s_[i_ + k] - '0');
    }
    out = v;
    i_ += n;
    return true;
  }
  bool skip(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool at_end() const noexcept { return i_ == s_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : s_[i_]; }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

sim_datetime_parse datetime_error(std::string_view why) {
  return {std::nullopt, why};
}

constexpr std::string_view shape_error =
    "invalid datetime format: expected YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)";

sim_field_error field_error(boost::json::array loc, std::string msg, std::string type) {
  return {std::move(loc), std::move(msg), std::move(type)};
}

boost::json::array loc_of(std::size_t index, std::string_view field) {
  return boost::json::array{"body", index, field};
}

// The pydantic verdict for a required field that is absent or null, or nullptr when present.
const char* absent_or_null(const boost::json::value* v, const char** type) {
  if (v == nullptr) {
    *type = "value_error.missing";
    return "field required";
  }
  if (v->is_null()) {
    *type = "type_error.none.not_allowed";
    return "none is not an allowed value";
  }
  return nullptr;
}

void validate_item(const boost::json::value& item, std::size_t index,
                   std::vector<sim_field_error>& errors, std::vector<sim_home_animal>& animals) {
  const auto* object = item.if_object();
  if (object == nullptr) {
    errors.push_back(field_error(boost::json::array{"body", index}, "value is not a valid dict",
                                 "type_error.dict"));
    return;
  }
  const auto before = errors.size();
  sim_home_animal animal;
  const char* type = nullptr;

  const auto* id = object->if_contains("id");
  if (const char* msg = absent_or_null(id, &type)) {
    errors.push_back(field_error(loc_of(index, "id"), msg, type));
  } else if (id->is_int64()) {
    animal.id = id->get_int64();
  } else {
    errors.push_back(field_error(loc_of(index, "id"),
                                 id->is_uint64() ? "value is not a valid integer (beyond int64)"
                                                 : "value is not a valid integer",
                                 "type_error.integer"));
  }

  const auto* name = object->if_contains("name");
  if (const char* msg = absent_or_null(name, &type)) {
    errors.push_back(field_error(loc_of(index, "name"), msg, type));
  } else if (name->is_string()) {
    animal.name = name->get_string();
  } else {
    errors.push_back(field_error(loc_of(index, "name"), "str type expected", "type_error.str"));
  }

  const auto* friends = object->if_contains("friends");
  if (const char* msg = absent_or_null(friends, &type)) {
    errors.push_back(field_error(loc_of(index, "friends"), msg, type));
  } else if (const auto* list = friends->if_array()) {
    for (std::size_t j = 0; j < list->size(); ++j) {
      const auto& f = (*list)[j];
      if (f.is_string()) {
        animal.friends.emplace_back(f.get_string());
      } else {
        errors.push_back(
            field_error(boost::json::array{"body", index, "friends", j},
                        f.is_null() ? "none is not an allowed value" : "str type expected",
                        f.is_null() ? "type_error.none.not_allowed" : "type_error.str"));
      }
    }
  } else {
    errors.push_back(
        field_error(loc_of(index, "friends"), "value is not a valid list", "type_error.list"));
  }

  const auto* born_at = object->if_contains("born_at");
  if (born_at == nullptr || born_at->is_null()) {
    animal.born_at_micros.reset();
  } else if (const auto* text = born_at->if_string()) {
    const auto parsed = parse_iso8601_micros(*text);
    if (parsed.micros) {
      animal.born_at_micros = parsed.micros;
    } else {
      errors.push_back(
          field_error(loc_of(index, "born_at"), std::string(parsed.why), "value_error.datetime"));
    }
  } else {
    errors.push_back(field_error(loc_of(index, "born_at"),
                                 "invalid datetime: expected an ISO 8601 string with a timezone, "
                                 "or null",
                                 "type_error.datetime"));
  }

  if (errors.size() == before) {
    animals.push_back(std::move(animal));
  }
}

}  // namespace

sim_datetime_parse parse_iso8601_micros(std::string_view text) {
  scanner in(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!in.digits(4, year) || !in.skip('-') || !in.digits(2, month) || !in.skip('-') ||
      !in.digits(2, day) || !in.skip('T') || !in.digits(2, hour) || !in.skip(':') ||
      !in.digits(2, minute) || !in.skip(':') || !in.digits(2, second)) {
    return datetime_error(shape_error);
  }
  std::int64_t micros = 0;
  if (in.skip('.')) {
    // Like pydantic: up to 6 digits count, up to 6 more are read and ignored.
    int count = 0;
    int d = 0;
    while (count < 12 && in.digits(1, d)) {
      if (count < 6) {
        micros = micros * 10 + d;
      }
      ++count;
    }
    if (count == 0 || is_digit(in.peek())) {
      return datetime_error(shape_error);
    }
    for (int k = count; k < 6; ++k) {
      micros *= 10;
    }
  }
  int offset_minutes = 0;
  if (in.at_end()) {
    return datetime_error("datetime has no timezone: add Z or an offset such as +00:00");
  }
  if (!in.skip('Z')) {
    const int sign = in.skip('+') ? 1 : in.skip('-') ? -1 : 0;
    int oh = 0, om = 0;
    if (sign == 0 || !in.digits(2, oh) || !in.skip(':') || !in.digits(2, om)) {
      return datetime_error(shape_error);
    }
    if (oh > 23 || om > 59) {
      return datetime_error("invalid datetime: timezone offset out of range");
    }
    offset_minutes = sign * (oh * 60 + om);
  }
  if (!in.at_end()) {
    return datetime_error(shape_error);
  }
  if (year < 1) {
    return datetime_error("invalid datetime: year out of range");
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.month().ok()) {
    return datetime_error("invalid datetime: month out of range");
  }
  if (!date.ok()) {
    return datetime_error("invalid datetime: day out of range for month");
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return datetime_error("invalid datetime: time of day out of range");
  }
  const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  const std::int64_t seconds =
      days * 86'400 + hour * 3'600 + minute * 60 + second - offset_minutes * 60;
  return {seconds * 1'000'000 + micros, {}};
}

sim_int_parse parse_python_int(std::string_view text) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  // Python also allows single underscores between digits ("1_000").
  std::string digits;
  bool previous_digit = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      if (!digits.empty() || c != '0') {
        digits += c;
      }
      previous_digit = true;
    } else if (c == '_' && previous_digit && i + 1 < text.size() && is_digit(text[i + 1])) {
      previous_digit = false;
    } else {
      return {};
    }
  }
  if (!previous_digit) {
    return {};
  }
  sim_int_parse out;
  if (digits.empty()) {
    out.value = 0;
    out.literal = "0";
    return out;
  }
  out.literal = negative ? "-" + digits : digits;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  std::uint64_t magnitude = 0;
  for (char c : digits) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (static_cast<std::uint64_t>(max) - d) / 10) {
      out.overflow = true;
      out.value = negative ? std::numeric_limits<std::int64_t>::min() : max;
      return out;
    }
    magnitude = magnitude * 10 + d;
  }
  out.value =
      negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  return out;
}

sim_home_validation validate_home_body(std::string_view body) {
  sim_home_validation out;
  std::string_view trimmed = body;
  while (!trimmed.empty() && is_space(trimmed.front())) {
    trimmed.remove_prefix(1);
  }
  if (trimmed.empty()) {
    out.errors.push_back(
        field_error(boost::json::array{"body"}, "field required", "value_error.missing"));
    return out;
  }
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (!ec) {
    parser.finish(ec);
  }
  if (ec) {
    out.errors.push_back(
        field_error(boost::json::array{"body", consumed},
                    "JSON decode error at char " + std::to_string(consumed) + ": " + ec.message(),
                    "value_error.jsondecode"));
    return out;
  }
  const boost::json::value document = parser.release();
  const auto* items = document.if_array();
  if (items == nullptr) {
    out.errors.push_back(
        field_error(boost::json::array{"body"}, "value is not a valid list", "type_error.list"));
    return out;
  }
  out.animals.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    validate_item((*items)[i], i, out.errors, out.animals);
  }
  if (!out.errors.empty()) {
    out.animals.clear();
  }
  return out;
}

std::string validation_error_body(std::span<const sim_field_error> errors) {
  boost::json::array detail;
  detail.reserve(errors.size());
  for (const auto& e : errors) {
    detail.push_back(boost::json::object{{"loc", e.loc}, {"msg", e.msg}, {"type", e.type}});
  }
  return boost::json::serialize(boost::json::object{{"detail", std::move(detail)}});
}

}  // namespace etl
