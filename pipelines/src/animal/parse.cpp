#include "etl/animal/parse.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "etl/core/aliases.hpp"

namespace etl {
namespace {

constexpr std::string_view expect_id = "an integer >= 0";
constexpr std::string_view expect_name = "a non-empty string";
constexpr std::string_view expect_born_at = "an integer (milliseconds since the epoch) or null";
constexpr std::string_view expect_friends = "a string of comma-separated names (may be empty)";
constexpr std::string_view expect_count = "an integer >= 0";
constexpr std::string_view expect_items = "an array";

// Documents are parsed into a stack arena so that a typical body costs no heap allocation for
// its JSON tree; a bigger one spills over to the heap. A detail is ~100 bytes of JSON, a page of
// ten listing items ~600.
constexpr std::size_t detail_arena_bytes = 2048;
constexpr std::size_t listing_arena_bytes = 8192;
constexpr std::size_t parser_stack_bytes = 4096;

// What a value is, for "got ..." in a rejection: its type, or the number itself.
std::string describe_value(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "boolean true" : "boolean false";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_: {
      // fmt writes 5.0 as "5"; keep the ".0" so the reader sees why an integral value failed.
      std::string number = fmt::format("{}", v.get_double());
      if (number.find_first_of(".eEn") == std::string::npos) {
        number += ".0";
      }
      return "float " + number;
    }
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "a value of unknown kind";
}

rejection missing(std::string_view field, std::string_view expected) {
  return {std::string(field), fmt::format("missing (must be {})", expected)};
}

rejection wrong(std::string_view field, std::string_view expected, const json::value& got) {
  return {std::string(field), fmt::format("must be {}, got {}", expected, describe_value(got))};
}

std::string_view view_of(const json::string& s) noexcept {
  return {s.data(), s.size()};
}

// Parses `body` with its tree allocated from `storage`, which must outlive the value.
parse_result<json::value> parse_json(std::string_view body, json::storage_ptr storage) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return rejection{"body", "empty, expected a JSON object"};
  }
  unsigned char parser_stack[parser_stack_bytes];
  json::parser parser(json::storage_ptr(), json::parse_options(), parser_stack);
  parser.reset(std::move(storage));
  error_code ec;
  const std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec) {
    return rejection{"body", fmt::format("not valid JSON: {} at byte {}", ec.message(), consumed)};
  }
  return parser.release();
}

parse_result<const json::object*> as_object(const json::value& doc, std::string_view field) {
  if (const json::object* obj = doc.if_object()) {
    return obj;
  }
  return rejection{std::string(field),
                   fmt::format("must be a JSON object, got {}", describe_value(doc))};
}

// An integer >= 0 that fits in int64. Boost.JSON gives int64 for values up to int64's maximum
// and uint64 above it, so a uint64 here is always out of range; doubles (3.5, but also 5.0 and
// 1e3) are not integers.
parse_result<std::int64_t> read_non_negative(const json::object& obj, std::string_view field,
                                             std::string_view expected) {
  const json::value* v = obj.if_contains(field);
  if (v == nullptr) {
    return missing(field, expected);
  }
  if (v->is_int64() && v->get_int64() >= 0) {
    return v->get_int64();
  }
  if (v->is_uint64()) {
    const std::uint64_t u = v->get_uint64();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(u);
    }
    return rejection{std::string(field),
                     fmt::format("must be {}, got {} (out of range)", expected, u)};
  }
  return wrong(field, expected, *v);
}

parse_result<std::string_view> read_name(const json::object& obj) {
  const json::value* v = obj.if_contains("name");
  if (v == nullptr) {
    return missing("name", expect_name);
  }
  const json::string* s = v->if_string();
  if (s == nullptr) {
    return wrong("name", expect_name, *v);
  }
  if (s->empty()) {
    return rejection{"name", fmt::format("must be {}, got an empty string", expect_name)};
  }
  return view_of(*s);
}

rejection born_at_out_of_range(std::string_view value) {
  return {"born_at", fmt::format("out of range: must be between {} (0001-01-01T00:00:00.000Z) and "
                                 "{} (9999-12-31T23:59:59.999Z), got {}",
                                 born_at_min_ms, born_at_max_ms, value)};
}

// null means "no date". An absent born_at is a record missing a field, not a record without a
// date: posting it as null would change the animal, so it is rejected.
parse_result<std::optional<std::int64_t>> read_born_at(const json::object& obj) {
  const json::value* v = obj.if_contains("born_at");
  if (v == nullptr) {
    return missing("born_at", expect_born_at);
  }
  if (v->is_null()) {
    return std::optional<std::int64_t>();
  }
  if (v->is_int64()) {
    const std::int64_t ms = v->get_int64();
    if (!born_at_in_range(ms)) {
      return born_at_out_of_range(std::to_string(ms));
    }
    return std::optional<std::int64_t>(ms);
  }
  if (v->is_uint64()) {
    return born_at_out_of_range(std::to_string(v->get_uint64()));
  }
  return wrong("born_at", expect_born_at, *v);
}

parse_result<std::string_view> read_friends(const json::object& obj) {
  const json::value* v = obj.if_contains("friends");
  if (v == nullptr) {
    return missing("friends", expect_friends);
  }
  const json::string* s = v->if_string();
  if (s == nullptr) {
    return wrong("friends", expect_friends, *v);
  }
  return view_of(*s);
}

// One listing item; `id` receives the id as soon as it is known valid, so that a rejected item
// is still reported with its id.
parse_result<listing_item> read_listing_item(const json::value& item,
                                             std::optional<std::int64_t>& id) {
  auto obj = as_object(item, "record");
  if (!obj) {
    return obj.error();
  }
  auto item_id = read_non_negative(**obj, "id", expect_id);
  if (!item_id) {
    return item_id.error();
  }
  id = *item_id;
  auto name = read_name(**obj);
  if (!name) {
    return name.error();
  }
  auto born_at = read_born_at(**obj);
  if (!born_at) {
    return born_at.error();
  }
  return listing_item{*item_id, std::string(*name), *born_at};
}

}  // namespace

parse_result<listing_page> parse_listing_page(std::string_view body) {
  alignas(std::max_align_t) unsigned char arena[listing_arena_bytes];
  json::monotonic_resource resource(arena, sizeof arena);
  auto doc = parse_json(body, &resource);
  if (!doc) {
    return doc.error();
  }
  auto obj = as_object(*doc, "body");
  if (!obj) {
    return obj.error();
  }
  auto page_number = read_non_negative(**obj, "page", expect_count);
  if (!page_number) {
    return page_number.error();
  }
  auto total_pages = read_non_negative(**obj, "total_pages", expect_count);
  if (!total_pages) {
    return total_pages.error();
  }
  const json::value* items = (*obj)->if_contains("items");
  if (items == nullptr) {
    return missing("items", expect_items);
  }
  const json::array* array = items->if_array();
  if (array == nullptr) {
    return wrong("items", expect_items, *items);
  }

  listing_page page;
  page.page = *page_number;
  page.total_pages = *total_pages;
  page.items.reserve(array->size());
  for (const json::value& item : *array) {
    std::optional<std::int64_t> id;
    auto parsed = read_listing_item(item, id);
    if (parsed) {
      page.items.push_back(std::move(*parsed));
    } else {
      page.rejected.push_back(
          make_rejected_record(id, std::move(parsed.error()), json::serialize(item)));
    }
  }
  return page;
}

parse_result<animal_detail> parse_detail(std::string_view body) {
  alignas(std::max_align_t) unsigned char arena[detail_arena_bytes];
  json::monotonic_resource resource(arena, sizeof arena);
  auto doc = parse_json(body, &resource);
  if (!doc) {
    return doc.error();
  }
  auto obj = as_object(*doc, "body");
  if (!obj) {
    return obj.error();
  }
  auto id = read_non_negative(**obj, "id", expect_id);
  if (!id) {
    return id.error();
  }
  auto name = read_name(**obj);
  if (!name) {
    return name.error();
  }
  auto born_at = read_born_at(**obj);
  if (!born_at) {
    return born_at.error();
  }
  auto friends = read_friends(**obj);
  if (!friends) {
    return friends.error();
  }
  return animal_detail{*id, std::string(*name), *born_at, std::string(*friends)};
}

}  // namespace etl
