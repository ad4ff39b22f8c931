#include "etl/pipelines/records.hpp"

#include <cstdio>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <regex>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <boost/json/serialize.hpp>

#include "etl/animal/transform.hpp"
#include "etl/pipelines/hashing.hpp"

namespace etl {
namespace {

namespace js = boost::json;

bool digits(std::string_view s, std::size_t from, std::size_t n) noexcept {
  if (from + n > s.size())
    return false;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
  }
  return true;
}

int number_at(std::string_view s, std::size_t from, std::size_t n) noexcept {
  int v = 0;
  for (std::size_t i = from; i < from + n; ++i)
    v = v * 10 + (s[i] - '0');
  return v;
}

bool valid_day(int year, int month, int day) noexcept {
  static constexpr int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
    return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day <= 28 || leap;
}

std::string_view json_type(const js::value& v) noexcept {
  switch (v.kind()) {
    case js::kind::null:
      return "null";
    case js::kind::bool_:
      return "bool";
    case js::kind::int64:
    case js::kind::uint64:
      return "integer";
    case js::kind::double_:
      return "number";
    case js::kind::string:
      return "string";
    case js::kind::array:
      return "array";
    case js::kind::object:
      return "object";
  }
  return "?";
}

// Whether all of `text` matches `pattern`. The compiled expressions are kept per thread: a
// spec's few patterns are compiled once, not per record.
bool matches(const std::string& pattern, std::string_view text) {
  thread_local std::unordered_map<std::string, std::regex> compiled;
  auto it = compiled.find(pattern);
  if (it == compiled.end())
    it = compiled.emplace(pattern, std::regex(pattern)).first;
  return std::regex_match(text.begin(), text.end(), it->second);
}

rejection wrong_type(const field_spec& f, const js::value& v, std::string_view wanted) {
  return {f.name, "must be " + std::string(wanted) + (f.nullable ? " or null" : "") + ", got " +
                      std::string(json_type(v))};
}

// The field's value typed, or why not. `v` is not null here.
boost::system::result<js::value, rejection> typed_value(const field_spec& f, const js::value& v) {
  switch (f.type) {
    case field_type::integer: {
      std::int64_t n = 0;
      if (v.is_int64())
        n = v.get_int64();
      else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        n = static_cast<std::int64_t>(v.get_uint64());
      else
        return wrong_type(f, v, "an integer");
      if (f.min && n < *f.min)
        return rejection{
            f.name, "must be at least " + std::to_string(*f.min) + ", got " + std::to_string(n)};
      return js::value(n);
    }
    case field_type::string_or_number:
      if (v.is_string())
        return v;
      if (!v.is_number())
        return wrong_type(f, v, "a string or a number");
      return js::value(js::serialize(v));
    case field_type::number:
      if (f.accept_text && v.is_string()) {
        const std::string_view text = v.get_string();
        double d = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(d))
          return rejection{f.name, "'" + std::string(text) + "' is not a decimal number"};
        return js::value(d);
      }
      if (!v.is_number())
        return wrong_type(f, v, f.accept_text ? "a number or a decimal text" : "a number");
      if (v.is_double() && !std::isfinite(v.get_double()))
        return rejection{f.name, "must be a finite number"};
      return js::value(v.to_number<double>());
    case field_type::string:
      if (!v.is_string())
        return wrong_type(f, v, "a string");
      if (!f.values.empty() &&
          std::find(f.values.begin(), f.values.end(), v.get_string()) == f.values.end()) {
        std::string list;
        for (const auto& x : f.values)
          list += (list.empty() ? "" : ", ") + x;
        return rejection{f.name, "'" + std::string(v.get_string()) + "' is not one of " + list};
      }
      if (!f.pattern.empty() && !matches(f.pattern, v.get_string()))
        return rejection{f.name,
                         "'" + std::string(v.get_string()) + "' does not match " + f.pattern};
      return v;
    case field_type::boolean:
      if (!v.is_bool())
        return wrong_type(f, v, "true or false");
      return v;
    case field_type::epoch_ms: {
      if (!v.is_int64())
        return wrong_type(f, v, "an integer (milliseconds since the epoch)");
      const auto ms = v.get_int64();
      if (!born_at_in_range(ms))
        return rejection{
            f.name, "milliseconds " + std::to_string(ms) + " are outside the years 0001..9999"};
      return js::value(format_iso8601_ms(ms));
    }
    case field_type::string_list: {
      if (!v.is_string())
        return wrong_type(f, v, "a string");
      js::array items;
      const std::string_view s = v.get_string();
      std::size_t start = 0;
      while (start < s.size()) {
        auto end = s.find(f.separator, start);
        if (end == std::string_view::npos)
          end = s.size();
        if (end > start)
          items.emplace_back(s.substr(start, end - start));
        start = end + f.separator.size();
      }
      return js::value(std::move(items));
    }
    case field_type::date_time:
      if (!v.is_string())
        return wrong_type(f, v, "an ISO 8601 date-time string");
      if (!is_date_time(v.get_string()))
        return rejection{f.name, "'" + std::string(v.get_string()) +
                                     "' is not an ISO 8601 date-time with an offset"};
      return v;
    case field_type::string_array: {
      if (!v.is_array())
        return wrong_type(f, v, "an array of strings");
      for (const auto& item : v.get_array()) {
        if (!item.is_string())
          return rejection{f.name, "must hold only strings, got " + std::string(json_type(item))};
      }
      return v;
    }
    case field_type::date:
      if (f.derive == field_derive::utc_date) {
        if (!v.is_string() || !is_date_time(v.get_string()))
          return wrong_type(f, v, "an ISO 8601 date-time string (its UTC day is the date)");
        const auto micros = *date_time_micros(v.get_string());
        const auto day = micros >= 0 ? micros / 86'400'000'000LL
                                     : -((-micros + 86'399'999'999LL) / 86'400'000'000LL);
        return js::value(date_text(static_cast<std::int32_t>(day)));
      }
      if (!v.is_string())
        return wrong_type(f, v, "a YYYY-MM-DD string");
      if (!is_date(v.get_string()))
        return rejection{f.name, "'" + std::string(v.get_string()) + "' is not a YYYY-MM-DD date"};
      return v;
  }
  return rejection{f.name, "unknown field type"};
}

}  // namespace

bool is_date(std::string_view s) noexcept {
  return s.size() == 10 && digits(s, 0, 4) && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' &&
         digits(s, 8, 2) && valid_day(number_at(s, 0, 4), number_at(s, 5, 2), number_at(s, 8, 2));
}

bool is_date_time(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM)
  if (s.size() < 20 || !is_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't'))
    return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return false;
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59 || number_at(s, 17, 2) > 60)
    return false;
  std::size_t i = 19;
  if (s[i] == '.') {
    const auto start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == start)
      return false;
  }
  const auto zone = s.substr(i);
  if (zone == "Z" || zone == "z")
    return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2) &&
         zone[3] == ':' && digits(zone, 4, 2) && number_at(zone, 1, 2) <= 23 &&
         number_at(zone, 4, 2) <= 59;
}

std::int32_t utc_day(std::chrono::system_clock::time_point t) {
  return static_cast<std::int32_t>(
      std::chrono::floor<std::chrono::days>(t).time_since_epoch().count());
}

std::string date_text(std::int32_t days) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return out;
}

std::optional<std::int32_t> date_days(std::string_view s) noexcept {
  if (!is_date(s))
    return std::nullopt;
  const std::chrono::year_month_day ymd{
      std::chrono::year{number_at(s, 0, 4)},
      std::chrono::month{static_cast<unsigned>(number_at(s, 5, 2))},
      std::chrono::day{static_cast<unsigned>(number_at(s, 8, 2))}};
  return static_cast<std::int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count());
}

std::optional<std::int64_t> date_time_micros(std::string_view s) noexcept {
  if (!is_date_time(s))
    return std::nullopt;
  std::int64_t micros = std::int64_t{*date_days(s.substr(0, 10))} * 86'400'000'000LL;
  micros += (number_at(s, 11, 2) * 3600LL + number_at(s, 14, 2) * 60LL + number_at(s, 17, 2)) *
            1'000'000LL;
  std::size_t i = 19;
  if (s[i] == '.') {
    std::int64_t scale = 100'000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      micros += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  const auto zone = s.substr(i);
  if (zone.size() == 6) {
    const std::int64_t offset =
        (number_at(zone, 1, 2) * 3600LL + number_at(zone, 4, 2) * 60LL) * 1'000'000LL;
    micros += zone[0] == '+' ? -offset : offset;  // 10:00+02:00 is 08:00Z
  }
  return micros;
}

boost::system::result<const js::value*, std::string> value_at(const js::object& record,
                                                              std::span<const std::string> path) {
  static const js::value null_value;
  const js::object* at = &record;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto* v = at->if_contains(path[i]);
    if (v == nullptr)
      return &null_value;
    if (i + 1 == path.size())
      return v;
    if (v->is_null())
      return &null_value;
    if (!v->is_object())
      return "'" + path[i] + "' is " + std::string(json_type(*v)) + ", not an object";
    at = &v->get_object();
  }
  return &null_value;
}

std::vector<std::size_t> field_indexes(std::span<const field_spec> fields,
                                       std::span<const std::string> names) {
  std::vector<std::size_t> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&](const field_spec& f) { return f.name == name; });
    if (it == fields.end())
      throw std::logic_error("'" + name + "' is not a field (the spec loader checks this)");
    out.push_back(static_cast<std::size_t>(it - fields.begin()));
  }
  return out;
}

std::string merge_key(const typed_record& r, std::span<const std::size_t> key_at) {
  js::array values;
  for (auto i : key_at)
    values.push_back(r.values.at(i));
  return js::serialize(values);
}

std::vector<typed_record> merge_by_key(std::span<const field_spec> fields,
                                       std::span<const std::string> key,
                                       std::span<const typed_record> records) {
  const auto key_at = field_indexes(fields, key);
  std::unordered_map<std::string, std::size_t> slot;  // key text -> index into `out`
  std::vector<typed_record> out;
  std::vector<bool> superseded;
  for (const auto& r : records) {
    auto [it, added] = slot.try_emplace(merge_key(r, key_at), out.size());
    if (!added)
      superseded[it->second] = true;
    it->second = out.size();
    out.push_back(r);
    superseded.push_back(false);
  }
  std::vector<typed_record> kept;
  kept.reserve(slot.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!superseded[i])
      kept.push_back(std::move(out[i]));
  }
  return kept;
}

namespace {

// A stable_key field's value: the hash of the values at its paths.
boost::system::result<js::value, rejection> stable_key_of(const js::object& record,
                                                          const field_spec& f) {
  std::vector<js::value> parts;
  parts.reserve(f.key_of.size());
  for (const auto& path : f.key_of) {
    auto at = value_at(record, path);
    if (!at)
      return rejection{f.name, at.error()};
    parts.push_back(**at);
  }
  return js::value(stable_key(parts));
}

// A secret_hash field's value: the hash of a text or a number's JSON text.
boost::system::result<js::value, rejection> secret_of(const field_spec& f, const js::value& v,
                                                      const transform_secrets* secrets) {
  if (secrets == nullptr)
    throw std::logic_error("field " + f.name + " is a secret_hash, and no salt was given");
  if (!v.is_string() && !v.is_number())
    return wrong_type(f, v, "a string or a number");
  const auto text = v.is_string() ? std::string(v.get_string()) : js::serialize(v);
  return js::value(secret_hash(text, secrets->salt, secrets->iterations));
}

// A pick field's value: in the array at `v`, the first object whose where_key holds
// where_value, its value at the pick's path; null when no entry matches (or `v` is null).
boost::system::result<const js::value*, rejection> picked(const field_spec& f, const js::value& v) {
  static const js::value null_value;
  if (v.is_null())
    return &null_value;
  if (!v.is_array())
    return rejection{f.name, "is " + std::string(json_type(v)) + ", not an array to pick from"};
  for (const auto& entry : v.get_array()) {
    const auto* o = entry.if_object();
    const auto* key = o != nullptr ? o->if_contains(f.pick->where_key) : nullptr;
    if (key == nullptr || !key->is_string() || key->get_string() != f.pick->where_value)
      continue;
    auto at = value_at(*o, f.pick->value);
    if (!at)
      return rejection{f.name, at.error()};
    return *at;
  }
  return &null_value;
}

}  // namespace

record_result type_record(const js::object& record, std::span<const field_spec> fields,
                          const transform_secrets* secrets) {
  typed_record out;
  out.values.reserve(fields.size());
  for (const auto& f : fields) {
    if (f.derive == field_derive::stable_key) {
      auto key = stable_key_of(record, f);
      if (!key)
        return key.error();
      out.values.push_back(std::move(*key));
      continue;
    }
    auto at = value_at(record, f.from);
    if (!at)
      return rejection{f.name, at.error()};
    const js::value* found = *at;
    if (f.pick) {
      auto entry = picked(f, *found);
      if (!entry)
        return entry.error();
      found = *entry;
    }
    const js::value& v = *found;
    if (v.is_null()) {
      if (!f.nullable)
        return rejection{f.name, "is missing or null"};
      out.values.emplace_back(nullptr);
      continue;
    }
    auto typed =
        f.derive == field_derive::secret_hash ? secret_of(f, v, secrets) : typed_value(f, v);
    if (!typed)
      return typed.error();
    out.values.push_back(std::move(*typed));
  }
  return out;
}

}  // namespace etl

namespace etl {
namespace {

// The rows of child table `c` of one typed record: an entry whose skip_null value is null is
// counted in `skipped`, any other entry is typed (parent fields first, then the index).
boost::system::result<std::vector<typed_record>, rejection> child_rows(
    const js::object& record, const typed_record& parent, std::span<const field_spec> parent_fields,
    const child_spec& c, const transform_secrets* secrets, std::int64_t& skipped) {
  std::vector<typed_record> out;
  auto at = value_at(record, c.from);
  if (!at)
    return rejection{c.name, at.error()};
  if ((*at)->is_null())
    return out;  // no array: no rows
  if (!(*at)->is_array())
    return rejection{c.name, "must be an array, got " + std::string(json_type(**at))};
  const auto copied = c.parent_fields.size() + (c.index.empty() ? 0 : 1);
  const auto parent_at = field_indexes(parent_fields, c.parent_fields);
  const auto own = std::span(c.fields).subspan(copied);
  const auto skip = std::find_if(own.begin(), own.end(),
                                 [&](const field_spec& f) { return f.name == c.skip_null; });
  const auto& entries = (*at)->get_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto where = c.name + "[" + std::to_string(i) + "]";
    if (!entries[i].is_object())
      return rejection{where, "must be an object, got " + std::string(json_type(entries[i]))};
    const auto& entry = entries[i].get_object();
    if (skip != own.end()) {
      auto v = value_at(entry, skip->from);
      if (v && (*v)->is_null()) {
        ++skipped;
        continue;
      }
    }
    auto typed = type_record(entry, own, secrets);
    if (!typed)
      return rejection{where + "." + typed.error().field, typed.error().problem};
    typed_record row;
    row.values.reserve(c.fields.size());
    for (auto p : parent_at)
      row.values.push_back(parent.values[p]);
    if (!c.index.empty())
      row.values.emplace_back(static_cast<std::int64_t>(i));
    for (auto& v : typed->values)
      row.values.push_back(std::move(v));
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

rows_result type_rows(const js::object& record, const pipeline_spec& spec,
                      const transform_secrets* secrets) {
  auto typed = type_record(record, spec.fields, secrets);
  if (!typed)
    return typed.error();
  typed_rows out;
  out.children.reserve(spec.children.size());
  for (const auto& c : spec.children) {
    auto rows = child_rows(record, *typed, spec.fields, c, secrets, out.skipped);
    if (!rows)
      return rows.error();
    out.children.push_back(std::move(*rows));
  }
  out.record = std::move(*typed);
  return out;
}

std::string key_text(const js::value& v) {
  if (v.is_string())
    return std::string(v.get_string());
  if (v.is_null())
    return {};
  return js::serialize(v);
}

std::size_t drop_delivered(std::vector<typed_record>& records, const pipeline_spec& spec,
                           std::string_view start, std::span<const std::string> keys) {
  if (keys.empty() || !spec.incremental)
    return 0;
  const auto at_start = date_time_micros(start);
  if (!at_start)
    return 0;  // a date: nothing was delivered at exactly its midnight by an earlier run's cursor
  const std::set<std::string, std::less<>> skip(keys.begin(), keys.end());
  const auto at = field_indexes(spec.fields, std::span(&spec.incremental->field, 1)).front();
  const auto key = field_indexes(spec.fields, std::span(&spec.source.key, 1)).front();
  return std::erase_if(records, [&](const typed_record& r) {
    const auto& v = r.values[at];
    return v.is_string() && date_time_micros(v.get_string()) == at_start &&
           skip.contains(key_text(r.values[key]));
  });
}

}  // namespace etl
