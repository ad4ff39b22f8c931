// The MongoDB/Mongoose query subset the SpaceX API answers: filter, cast, sort, select, page.
#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/sim/dataset.hpp"
#include "etl/sim/spacex_data.hpp"

namespace etl {
namespace {

namespace bj = boost::json;

enum class field_type { number, boolean, object_id, string, unknown };

// The schema types of the paths a client filters on, as the API's Mongoose models declare them.
field_type type_of(std::string_view model, std::string_view path) {
  static constexpr std::array<std::string_view, 7> numbers = {
      "flight_number", "date_unix",     "static_fire_date_unix", "window",
      "cores.flight",  "failures.time", "failures.altitude"};
  static constexpr std::array<std::string_view, 13> booleans = {"net",
                                                                "success",
                                                                "upcoming",
                                                                "auto_update",
                                                                "tbd",
                                                                "cores.gridfins",
                                                                "cores.legs",
                                                                "cores.reused",
                                                                "cores.landing_attempt",
                                                                "cores.landing_success",
                                                                "fairings.reused",
                                                                "fairings.recovery_attempt",
                                                                "fairings.recovered"};
  static constexpr std::array<std::string_view, 11> ids = {
      "_id",       "rocket",     "launchpad",     "ships",          "capsules", "payloads",
      "crew.crew", "cores.core", "cores.landpad", "fairings.ships", "launches"};
  const auto in = [&](const auto& list) {
    return std::find(list.begin(), list.end(), path) != list.end();
  };
  if (in(ids)) {
    return field_type::object_id;
  }
  if (model == "Launch" && in(numbers)) {
    return field_type::number;
  }
  if (model == "Launch" && in(booleans)) {
    return field_type::boolean;
  }
  return path.find('.') == std::string_view::npos || path.starts_with("links.") ||
                 path.starts_with("cores.") || path.starts_with("crew.")
             ? field_type::string
             : field_type::unknown;
}

std::string_view type_name(field_type t) {
  switch (t) {
    case field_type::number:
      return "Number";
    case field_type::boolean:
      return "Boolean";
    case field_type::object_id:
      return "ObjectId";
    default:
      return "string";
  }
}

std::string js_type(const bj::value& v) {
  if (v.is_string()) {
    return "string";
  }
  if (v.is_bool()) {
    return "boolean";
  }
  if (v.is_number()) {
    return "number";
  }
  return v.is_array() ? "Array" : "Object";
}

spacex_bad_query cast_error(field_type t, const bj::value& v, std::string_view path,
                            std::string_view model) {
  const std::string shown = v.is_string() ? std::string(v.as_string()) : bj::serialize(v);
  return {
      fmt::format("Cast to {} failed for value \"{}\" (type {}) at path \"{}\" for model \"{}\"",
                  type_name(t), shown, js_type(v), path, model)};
}

bool is_hex24(std::string_view s) {
  return s.size() == 24 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

// Casts a query value to the path's schema type as Mongoose does before querying.
spacex_result<bj::value> cast(const bj::value& v, field_type t, std::string_view path,
                              std::string_view model) {
  if (v.is_null()) {
    return v;
  }
  switch (t) {
    case field_type::number:
      if (v.is_number() && !v.is_bool()) {
        return v;
      }
      if (v.is_bool()) {
        return bj::value(v.as_bool() ? 1 : 0);
      }
      if (v.is_string()) {
        const std::string text(v.as_string());
        char* end = nullptr;
        const double d = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(d)) {
          if (d == std::floor(d) && std::abs(d) < 9e15) {
            return bj::value(static_cast<std::int64_t>(d));
          }
          return bj::value(d);
        }
      }
      return cast_error(t, v, path, model);
    case field_type::boolean:
      if (v.is_bool()) {
        return v;
      }
      for (std::string_view yes : {"true", "1", "yes"}) {
        if ((v.is_string() && v.as_string() == yes) || (v.is_int64() && v.as_int64() == 1)) {
          return bj::value(true);
        }
      }
      for (std::string_view no : {"false", "0", "no"}) {
        if ((v.is_string() && v.as_string() == no) || (v.is_int64() && v.as_int64() == 0)) {
          return bj::value(false);
        }
      }
      return cast_error(t, v, path, model);
    case field_type::object_id:
      if (v.is_string() && is_hex24(v.as_string())) {
        std::string lower(v.as_string());
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](char c) { return static_cast<char>(std::tolower(c)); });
        return bj::value(lower);
      }
      return cast_error(t, v, path, model);
    case field_type::string:
      if (v.is_string()) {
        return v;
      }
      if (v.is_number() || v.is_bool()) {
        return bj::value(bj::serialize(v));
      }
      return cast_error(t, v, path, model);
    case field_type::unknown:
      return v;
  }
  return v;
}

// The values at a dotted path, descending through arrays as MongoDB does; `found` tells whether
// the path exists at all. "_id" is the record's "id"; "id" itself is no stored field.
void collect(const bj::value& v, std::span<const std::string> parts,
             std::vector<const bj::value*>& out, bool& found) {
  if (parts.empty()) {
    found = true;
    out.push_back(&v);
    if (const auto* list = v.if_array()) {
      for (const auto& item : *list) {
        out.push_back(&item);
      }
    }
    return;
  }
  if (const auto* list = v.if_array()) {
    for (const auto& item : *list) {
      if (item.is_object()) {
        collect(item, parts, out, found);
      }
    }
    return;
  }
  const auto* object = v.if_object();
  if (object == nullptr) {
    return;
  }
  if (const auto* next = object->if_contains(parts.front())) {
    collect(*next, parts.subspan(1), out, found);
  }
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot - start));
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (parts.front() == "_id") {
    parts.front() = "id";
  } else if (parts.front() == "id") {
    parts.front() = "\x01no-such-field";
  }
  return parts;
}

int type_rank(const bj::value* v) {
  if (v == nullptr || v->is_null()) {
    return 0;
  }
  if (v->is_number() && !v->is_bool()) {
    return 1;
  }
  if (v->is_string()) {
    return 2;
  }
  if (v->is_object()) {
    return 3;
  }
  if (v->is_array()) {
    return 4;
  }
  return 5;  // bool
}

double number_of(const bj::value& v) {
  return v.is_double()  ? v.as_double()
         : v.is_int64() ? static_cast<double>(v.as_int64())
                        : static_cast<double>(v.as_uint64());
}

// MongoDB's order across types, then within one: <0, 0, >0.
int compare(const bj::value* a, const bj::value* b) {
  const int ra = type_rank(a);
  const int rb = type_rank(b);
  if (ra != rb) {
    return ra < rb ? -1 : 1;
  }
  switch (ra) {
    case 1: {
      const double x = number_of(*a);
      const double y = number_of(*b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 2: {
      const auto c = std::string_view(a->as_string()).compare(std::string_view(b->as_string()));
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case 5:
      return static_cast<int>(a->as_bool()) - static_cast<int>(b->as_bool());
    case 3:
    case 4:
      return *a == *b ? 0 : (bj::serialize(*a) < bj::serialize(*b) ? -1 : 1);
    default:
      return 0;
  }
}

bool equal(const bj::value& a, const bj::value& b) {
  return type_rank(&a) == type_rank(&b) && compare(&a, &b) == 0;
}

spacex_result<bool> match_filter(const bj::object& record, const bj::object& filter,
                                 std::string_view model);

// One field's condition: a literal (equality) or an object of operators.
spacex_result<bool> match_field(const bj::object& record, std::string_view path,
                                const bj::value& condition, std::string_view model) {
  const auto t = type_of(model, path);
  std::vector<const bj::value*> values;
  bool found = false;
  const auto parts = split_path(path);
  if (const auto* first = record.if_contains(parts.front())) {
    collect(*first, std::span(parts).subspan(1), values, found);
  }
  const auto eq = [&](const bj::value& want) {
    if (want.is_null()) {
      return !found || std::any_of(values.begin(), values.end(),
                                   [](const bj::value* v) { return v->is_null(); });
    }
    return std::any_of(values.begin(), values.end(),
                       [&](const bj::value* v) { return equal(*v, want); });
  };
  const bool operators = condition.is_object() && !condition.as_object().empty() &&
                         condition.as_object().begin()->key().starts_with('$');
  if (!operators) {
    auto want = cast(condition, t, path, model);
    if (!want) {
      return want.error();
    }
    return eq(*want);
  }
  const auto& ops = condition.as_object();
  for (const auto& op : ops) {
    const std::string_view name = op.key();
    const auto& arg = op.value();
    bool ok = true;
    if (name == "$eq" || name == "$ne") {
      auto want = cast(arg, t, path, model);
      if (!want) {
        return want.error();
      }
      ok = eq(*want) == (name == "$eq");
    } else if (name == "$gt" || name == "$gte" || name == "$lt" || name == "$lte") {
      auto want = cast(arg, t, path, model);
      if (!want) {
        return want.error();
      }
      ok = std::any_of(values.begin(), values.end(), [&](const bj::value* v) {
        if (type_rank(v) != type_rank(&*want) || v->is_array()) {
          return false;  // MongoDB compares within one type only
        }
        const int c = compare(v, &*want);
        return name == "$gt" ? c > 0 : name == "$gte" ? c >= 0 : name == "$lt" ? c < 0 : c <= 0;
      });
    } else if (name == "$in" || name == "$nin") {
      bj::array list = arg.is_array() ? arg.as_array() : bj::array{arg};
      bool any = false;
      for (const auto& item : list) {
        auto want = cast(item, t, path, model);
        if (!want) {
          return want.error();
        }
        any = any || eq(*want);
      }
      ok = any == (name == "$in");
    } else if (name == "$exists") {
      const bool want = arg.is_bool() ? arg.as_bool() : !(arg.is_number() && number_of(arg) == 0);
      ok = found == want;
    } else if (name == "$regex") {
      if (!arg.is_string()) {
        return spacex_bad_query{fmt::format("Can't use $regex with {}.", type_name(t))};
      }
      auto flags = std::regex::ECMAScript;
      if (const auto* options = ops.if_contains("$options");
          options && options->is_string() &&
          std::string_view(options->as_string()).find('i') != std::string_view::npos) {
        flags |= std::regex::icase;
      }
      std::regex re;
      try {
        re = std::regex(std::string(arg.as_string()), flags);
      } catch (const std::regex_error&) {
        return spacex_bad_query{fmt::format("Invalid regular expression: /{}/", arg.as_string())};
      }
      ok = std::any_of(values.begin(), values.end(), [&](const bj::value* v) {
        return v->is_string() && std::regex_search(std::string(v->as_string()), re);
      });
    } else if (name == "$options") {
      continue;
    } else if (name == "$not") {
      auto inner = match_field(record, path, arg, model);
      if (!inner) {
        return inner.error();
      }
      ok = !*inner;
    } else {
      return spacex_bad_query{fmt::format("Can't use {} with {}.", name, type_name(t))};
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

spacex_result<bool> match_filter(const bj::object& record, const bj::object& filter,
                                 std::string_view model) {
  for (const auto& member : filter) {
    const std::string_view key = member.key();
    if (key == "$and" || key == "$or" || key == "$nor") {
      if (!member.value().is_array()) {
        return spacex_bad_query{fmt::format("{} must be an array", key)};
      }
      bool any = false;
      bool all = true;
      for (const auto& clause : member.value().as_array()) {
        if (!clause.is_object()) {
          return spacex_bad_query{fmt::format("{} argument's entries must be objects", key)};
        }
        auto m = match_filter(record, clause.as_object(), model);
        if (!m) {
          return m.error();
        }
        any = any || *m;
        all = all && *m;
      }
      const bool ok = key == "$and" ? all : key == "$or" ? any : !any;
      if (!ok) {
        return false;
      }
    } else if (key.starts_with('$')) {
      return spacex_bad_query{fmt::format("unknown top level operator: {}", key)};
    } else {
      auto m = match_field(record, key, member.value(), model);
      if (!m) {
        return m.error();
      }
      if (!*m) {
        return false;
      }
    }
  }
  return true;
}

// JavaScript's parseInt(x, 10) on a JSON value: unset for NaN.
std::optional<std::int64_t> js_parse_int(const bj::value& v) {
  if (v.is_int64()) {
    return v.as_int64();
  }
  if (v.is_uint64()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), INT64_MAX));
  }
  if (v.is_double()) {
    return std::isfinite(v.as_double()) ? std::optional(static_cast<std::int64_t>(v.as_double()))
                                        : std::nullopt;
  }
  if (!v.is_string()) {
    return std::nullopt;
  }
  std::string_view s = v.as_string();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  std::int64_t n = 0;
  std::size_t digits = 0;
  for (; digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits])); ++digits) {
    n = std::min<std::int64_t>(n * 10 + (s[digits] - '0'), INT64_MAX / 10);
  }
  if (digits == 0) {
    return std::nullopt;
  }
  return negative ? -n : n;
}

// The words of a Mongoose select or sort string ("name -details"), each with its '-' told apart.
std::vector<std::pair<std::string_view, bool>> signed_words(std::string_view text) {
  std::vector<std::pair<std::string_view, bool>> words;
  while (!text.empty()) {
    const auto space = text.find(' ');
    auto word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (!word.empty()) {
      const bool minus = word.front() == '-';
      words.emplace_back(minus ? word.substr(1) : word, minus);
    }
  }
  return words;
}

struct sort_key {
  std::vector<std::string> parts;
  int direction = 1;
};

spacex_result<std::vector<sort_key>> parse_sort(const bj::value& sort) {
  std::vector<sort_key> keys;
  if (sort.is_string()) {
    for (const auto& [word, minus] : signed_words(sort.as_string())) {
      keys.push_back({split_path(word), minus ? -1 : 1});
    }
    return keys;
  }
  if (!sort.is_object()) {
    return keys;
  }
  for (const auto& member : sort.as_object()) {
    const auto& v = member.value();
    int direction = 0;
    if (v.is_number() && !v.is_bool()) {
      direction = number_of(v) == 1 ? 1 : number_of(v) == -1 ? -1 : 0;
    } else if (v.is_string()) {
      const std::string_view s = v.as_string();
      direction = (s == "asc" || s == "ascending" || s == "1")      ? 1
                  : (s == "desc" || s == "descending" || s == "-1") ? -1
                                                                    : 0;
    }
    if (direction == 0) {
      return spacex_bad_query{
          fmt::format("Invalid sort value: {{ {}: {} }}", member.key(), bj::serialize(v))};
    }
    keys.push_back({split_path(member.key()), direction});
  }
  return keys;
}

// The sort value of a record: the first value at the path (arrays sort by their first element).
const bj::value* sort_value(const bj::object& record, const std::vector<std::string>& parts) {
  const bj::value* v = nullptr;
  const bj::object* o = &record;
  for (const auto& part : parts) {
    if (o == nullptr) {
      return nullptr;
    }
    v = o->if_contains(part);
    if (v == nullptr) {
      return nullptr;
    }
    if (const auto* list = v->if_array(); list && !list->empty()) {
      v = &list->front();
    }
    o = v->if_object();
  }
  return v;
}

struct projection {
  std::map<std::string, projection, std::less<>> children;
  bool leaf = false;
};

bj::object project(const bj::object& record, const projection& p, bool include) {
  bj::object out;
  for (const auto& member : record) {
    const auto it = p.children.find(member.key());
    if (include) {
      if (it == p.children.end()) {
        continue;
      }
      if (it->second.leaf) {
        out.emplace(member.key(), member.value());
      } else if (const auto* o = member.value().if_object()) {
        out.emplace(member.key(), project(*o, it->second, include));
      } else if (const auto* list = member.value().if_array()) {
        bj::array items;
        for (const auto& item : *list) {
          if (const auto* io = item.if_object()) {
            items.emplace_back(project(*io, it->second, include));
          }
        }
        out.emplace(member.key(), std::move(items));
      }
    } else {
      if (it == p.children.end()) {
        out.emplace(member.key(), member.value());
      } else if (!it->second.leaf) {
        if (const auto* o = member.value().if_object()) {
          out.emplace(member.key(), project(*o, it->second, include));
        } else {
          out.emplace(member.key(), member.value());
        }
      }
    }
  }
  return out;
}

}  // namespace

spacex_result<bool> spacex_matches(const bj::object& record, const bj::object& filter,
                                   std::string_view model) {
  return match_filter(record, filter, model);
}

bj::object spacex_select(const bj::object& record, const bj::value& select) {
  std::vector<std::pair<std::string, bool>> fields;
  if (select.is_string()) {
    for (const auto& [word, minus] : signed_words(select.as_string())) {
      fields.emplace_back(std::string(word), !minus);
    }
  } else if (select.is_object()) {
    for (const auto& member : select.as_object()) {
      const auto& v = member.value();
      const bool on = v.is_bool() ? v.as_bool() : !(v.is_number() && number_of(v) == 0);
      fields.emplace_back(std::string(member.key()), on);
    }
  }
  if (fields.empty()) {
    return record;
  }
  projection p;
  bool include = false;
  bool id_excluded = false;
  for (auto& [path, on] : fields) {
    if (path == "_id" || path == "id") {
      id_excluded = !on;
      continue;
    }
    include = include || on;
  }
  for (const auto& [path, on] : fields) {
    if (path == "_id" || path == "id" || on != include) {
      continue;
    }
    projection* node = &p;
    for (const auto& part : split_path(path)) {
      node = &node->children[part];
    }
    node->leaf = true;
  }
  if (include && !id_excluded) {
    p.children["id"].leaf = true;
  } else if (!include && id_excluded) {
    p.children["id"].leaf = true;
  }
  if (!include && !id_excluded && p.children.empty()) {
    return record;
  }
  auto out = project(record, p, include);
  if (include && id_excluded) {
    out.erase("id");
  }
  return out;
}

spacex_page_plan spacex_plan_page(std::size_t total, const bj::object& options) {
  spacex_page_plan plan;
  const auto count = static_cast<std::int64_t>(total);
  std::int64_t limit = 10;
  if (const auto* l = options.if_contains("limit")) {
    const auto parsed = js_parse_int(*l);
    limit = parsed && *parsed > 0 ? *parsed : 0;
  }
  bool pagination = true;
  if (const auto* p = options.if_contains("pagination"); p && p->is_bool()) {
    pagination = p->as_bool();
  }
  std::int64_t page = 1;
  std::int64_t skip = 0;
  if (const auto* o = options.if_contains("offset")) {
    plan.offset = std::max<std::int64_t>(0, js_parse_int(*o).value_or(0));
    skip = *plan.offset;
    page = limit > 0 ? (*plan.offset + limit) / limit : 1;  // ceil((offset + 1) / limit)
  } else if (const auto* p = options.if_contains("page")) {
    const auto parsed = js_parse_int(*p).value_or(1);
    page = parsed < 1 ? 1 : parsed;
    skip = (page - 1) * limit;
  } else {
    plan.offset = 0;
  }
  if (!pagination) {
    plan.limit = count;
    plan.page = 1;
    plan.skip = 0;
    plan.take = total;
    plan.paging_counter = 1;
    return plan;
  }
  plan.limit = limit;
  plan.page = page;
  if (limit == 0) {
    plan.page = 1;
    return plan;  // no docs, one page, no neighbours
  }
  plan.total_pages = std::max<std::int64_t>(1, (count + limit - 1) / limit);
  plan.paging_counter = (page - 1) * limit + 1;
  plan.skip = static_cast<std::size_t>(std::min(skip, count));
  plan.take =
      static_cast<std::size_t>(std::min(limit, count - static_cast<std::int64_t>(plan.skip)));
  plan.has_prev = page > 1 || (page == 1 && plan.offset && *plan.offset != 0);
  plan.has_next = page < plan.total_pages;
  return plan;
}

spacex_result<spacex_query_answer> spacex_query(const std::vector<bj::object>& records,
                                                const bj::value& body, std::string_view model,
                                                std::optional<std::uint64_t> tie_salt) {
  static const bj::object empty;
  const bj::object* filter = &empty;
  const bj::object* options = &empty;
  if (const auto* o = body.if_object()) {
    if (const auto* q = o->if_contains("query")) {
      if (!q->is_object()) {
        return spacex_bad_query{
            fmt::format("Parameter \"filter\" to find() must be an object, got {} (type {})",
                        bj::serialize(*q), js_type(*q))};
      }
      filter = &q->as_object();
    }
    if (const auto* opt = o->if_contains("options"); opt && opt->is_object()) {
      options = &opt->as_object();
    }
  }
  std::vector<std::size_t> matches;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto m = spacex_matches(records[i], *filter, model);
    if (!m) {
      return m.error();
    }
    if (*m) {
      matches.push_back(i);
    }
  }
  const auto plan = spacex_plan_page(matches.size(), *options);
  if (const auto* sort = options->if_contains("sort")) {
    auto keys = parse_sort(*sort);
    if (!keys) {
      return keys.error();
    }
    if (!keys->empty()) {
      // Records tying on every key come in an order of their own per page (tie_salt), as a
      // database without a unique last key gives them: a page boundary in a tie can repeat or
      // skip a record.
      const std::uint64_t salt = tie_salt.value_or(0) ^ static_cast<std::uint64_t>(plan.page);
      std::stable_sort(matches.begin(), matches.end(), [&](std::size_t a, std::size_t b) {
        for (const auto& key : *keys) {
          const int c =
              compare(sort_value(records[a], key.parts), sort_value(records[b], key.parts));
          if (c != 0) {
            return c * key.direction < 0;
          }
        }
        return tie_salt && sim_hash(salt, 0, a) < sim_hash(salt, 0, b);
      });
    }
  }
  spacex_query_answer answer;
  bj::array docs;
  const bj::value* select = options->if_contains("select");
  for (std::size_t i = plan.skip; i < plan.skip + plan.take && i < matches.size(); ++i) {
    const auto& record = records[matches[i]];
    answer.records.push_back(&record);
    docs.emplace_back(select ? spacex_select(record, *select) : record);
  }
  auto& e = answer.envelope;
  e["docs"] = std::move(docs);
  e["totalDocs"] = static_cast<std::int64_t>(matches.size());
  if (plan.offset) {
    e["offset"] = *plan.offset;
  }
  e["limit"] = plan.limit;
  e["totalPages"] = plan.total_pages;
  e["page"] = plan.page;
  e["pagingCounter"] = plan.paging_counter;
  e["hasPrevPage"] = plan.has_prev;
  e["hasNextPage"] = plan.has_next;
  e["prevPage"] = plan.has_prev ? bj::value(plan.page > 1 ? plan.page - 1 : 1) : nullptr;
  e["nextPage"] = plan.has_next ? bj::value(plan.page + 1) : nullptr;
  return answer;
}

}  // namespace etl
