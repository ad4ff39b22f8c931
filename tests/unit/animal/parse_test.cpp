// Parsing and validation of listing pages and details: the valid shapes, and one test per way a
// body or a field can be wrong, each checking the field named and the words of the problem.
#include "etl/animal/parse.hpp"

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace etl {
namespace {

// The rejection of a detail body that must fail.
rejection detail_error(std::string_view body) {
  auto parsed = parse_detail(body);
  EXPECT_FALSE(parsed.has_value()) << body;
  return parsed ? rejection{"<accepted>", ""} : parsed.error();
}

rejection listing_error(std::string_view body) {
  auto parsed = parse_listing_page(body);
  EXPECT_FALSE(parsed.has_value()) << body;
  return parsed ? rejection{"<accepted>", ""} : parsed.error();
}

// A detail with one field replaced by `json_value` (or left out when it is empty).
std::string detail_with(std::string_view field, std::string_view json_value) {
  std::string body = "{";
  const std::pair<std::string_view, std::string_view> fields[] = {
      {"id", "25"}, {"name", R"("Chough")"}, {"born_at", "null"}, {"friends", R"("Falcon")"}};
  for (const auto& [name, value] : fields) {
    const std::string_view v = name == field ? json_value : value;
    if (v.empty()) {
      continue;
    }
    if (body.size() > 1) {
      body += ',';
    }
    body += fmt::format(R"("{}":{})", name, v);
  }
  return body + "}";
}

TEST(animal_parse_detail, valid_detail) {
  auto d = parse_detail(
      R"({"id": 25, "name": "Chough", "born_at": null, "friends": "Falcon,Jackal,Ibis"})");
  ASSERT_TRUE(d.has_value()) << d.error().describe();
  EXPECT_EQ(*d, (animal_detail{25, "Chough", std::nullopt, "Falcon,Jackal,Ibis"}));
}

TEST(animal_parse_detail, born_at_integer_negative_and_limits) {
  auto d = parse_detail(detail_with("born_at", "1484872785241"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->born_at, 1484872785241);
  d = parse_detail(detail_with("born_at", "-1"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->born_at, -1);
  d = parse_detail(detail_with("born_at", std::to_string(born_at_min_ms)));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->born_at, born_at_min_ms);
  d = parse_detail(detail_with("born_at", std::to_string(born_at_max_ms)));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->born_at, born_at_max_ms);
}

TEST(animal_parse_detail, born_at_absent_is_a_missing_field) {
  // Posting it as null would change an animal whose date was dropped on the way.
  auto d = parse_detail(detail_with("born_at", ""));
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().field, "born_at");
  EXPECT_NE(d.error().problem.find("missing"), std::string::npos) << d.error().describe();
}

TEST(animal_parse_detail, empty_friends_id_zero_and_largest_id_are_valid) {
  auto d = parse_detail(detail_with("friends", R"("")"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->friends, "");
  d = parse_detail(detail_with("id", "0"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->id, 0);
  d = parse_detail(detail_with("id", "9223372036854775807"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->id, 9223372036854775807);
}

TEST(animal_parse_detail, unknown_fields_and_key_order_do_not_matter) {
  auto d = parse_detail(
      R"({"friends":"","extra":{"a":[1,2]},"born_at":5,"name":"Wren","id":27,"x":null})");
  ASSERT_TRUE(d.has_value()) << d.error().describe();
  EXPECT_EQ(*d, (animal_detail{27, "Wren", 5, ""}));
}

TEST(animal_parse_detail, utf8_and_escaped_names_are_kept) {
  auto d = parse_detail(detail_with("name", R"("Lišák 狐狸 🦊")"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->name, "Lišák 狐狸 🦊");
  d = parse_detail(detail_with("name", R"("caf\u00e9 \"q\" \\ \n")"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->name, "caf\xC3\xA9 \"q\" \\ \n");
}

TEST(animal_parse_detail, missing_fields) {
  EXPECT_EQ(detail_error(detail_with("id", "")),
            (rejection{"id", "missing (must be an integer >= 0)"}));
  EXPECT_EQ(detail_error(detail_with("name", "")),
            (rejection{"name", "missing (must be a non-empty string)"}));
  EXPECT_EQ(detail_error(detail_with("friends", "")),
            (rejection{"friends",
                       "missing (must be a string of comma-separated names (may be "
                       "empty))"}));
  EXPECT_EQ(detail_error("{}").field, "id");  // fields are checked in order, id first
}

TEST(animal_parse_detail, id_of_the_wrong_type_or_range) {
  const std::pair<const char*, const char*> cases[] = {
      {R"("25")", "got string"},
      {"3.5", "got float 3.5"},
      {"5.0", "got float 5.0"},
      {"1e3", "got float 1000.0"},
      {"1e20", "got float 1e+20"},
      {"-1", "got -1"},
      {"-9223372036854775808", "got -9223372036854775808"},
      {"9223372036854775808", "got 9223372036854775808 (out of range)"},
      {"18446744073709551615", "got 18446744073709551615 (out of range)"},
      {"null", "got null"},
      {"true", "got boolean true"},
      {"[1]", "got array"},
      {R"({"v":1})", "got object"},
  };
  for (const auto& [value, got] : cases) {
    const rejection r = detail_error(detail_with("id", value));
    EXPECT_EQ(r.field, "id") << value;
    EXPECT_EQ(r.problem, std::string("must be an integer >= 0, ") + got) << value;
  }
}

TEST(animal_parse_detail, name_null_empty_or_not_a_string) {
  EXPECT_EQ(detail_error(detail_with("name", "null")),
            (rejection{"name", "must be a non-empty string, got null"}));
  EXPECT_EQ(detail_error(detail_with("name", R"("")")),
            (rejection{"name", "must be a non-empty string, got an empty string"}));
  EXPECT_EQ(detail_error(detail_with("name", "42")),
            (rejection{"name", "must be a non-empty string, got 42"}));
  EXPECT_EQ(detail_error(detail_with("name", R"(["Wren"])")),
            (rejection{"name", "must be a non-empty string, got array"}));
}

TEST(animal_parse_detail, born_at_of_the_wrong_type) {
  const std::pair<const char*, const char*> cases[] = {
      {R"("2017-01-20T00:39:45.241Z")", "got string"},
      {"1.5", "got float 1.5"},
      {"1484872785241.0", "got float 1484872785241.0"},
      {"false", "got boolean false"},
      {"{}", "got object"},
      {"[]", "got array"},
  };
  for (const auto& [value, got] : cases) {
    EXPECT_EQ(
        detail_error(detail_with("born_at", value)),
        (rejection{
            "born_at",
            std::string("must be an integer (milliseconds since the epoch) or null, ") + got}))
        << value;
  }
}

TEST(animal_parse_detail, born_at_out_of_range) {
  const std::string range =
      "out of range: must be between -62135596800000 (0001-01-01T00:00:00.000Z) and "
      "253402300799999 (9999-12-31T23:59:59.999Z), got ";
  for (const std::string& value :
       {std::to_string(born_at_min_ms - 1), std::to_string(born_at_max_ms + 1),
        std::string("-9223372036854775808"), std::string("9223372036854775807"),
        std::string("18446744073709551615")}) {
    EXPECT_EQ(detail_error(detail_with("born_at", value)), (rejection{"born_at", range + value}));
  }
  // Beyond uint64 Boost.JSON gives a double: refused as not an integer.
  EXPECT_EQ(detail_error(detail_with("born_at", "1e30")).problem,
            "must be an integer (milliseconds since the epoch) or null, got float 1e+30");
}

TEST(animal_parse_detail, friends_not_a_string) {
  const std::string expected = "must be a string of comma-separated names (may be empty), got ";
  EXPECT_EQ(detail_error(detail_with("friends", "null")),
            (rejection{"friends", expected + "null"}));
  EXPECT_EQ(detail_error(detail_with("friends", R"(["Falcon"])")),
            (rejection{"friends", expected + "array"}));
  EXPECT_EQ(detail_error(detail_with("friends", "3")), (rejection{"friends", expected + "3"}));
}

TEST(animal_parse_detail, bad_json) {
  EXPECT_EQ(detail_error(""), (rejection{"body", "empty, expected a JSON object"}));
  EXPECT_EQ(detail_error(" \r\n"), (rejection{"body", "empty, expected a JSON object"}));
  EXPECT_EQ(detail_error(R"({"id":1,})"),
            (rejection{"body", "not valid JSON: syntax error at byte 8"}));
  EXPECT_EQ(detail_error(R"({"id":1)"),
            (rejection{"body", "not valid JSON: incomplete JSON at byte 7"}));
  EXPECT_EQ(detail_error("{} x"), (rejection{"body", "not valid JSON: extra data at byte 3"}));
  EXPECT_EQ(detail_error("Sorry!").field, "body");
  EXPECT_EQ(detail_error("<html>502 Bad Gateway</html>").field, "body");
  // Invalid UTF-8 inside a string is refused by the parser, so names are always valid UTF-8.
  EXPECT_EQ(detail_error(detail_with("name", "\"\xFF\"")).field, "body");
}

TEST(animal_parse_detail, body_not_an_object) {
  EXPECT_EQ(detail_error("[]"), (rejection{"body", "must be a JSON object, got array"}));
  EXPECT_EQ(detail_error("42"), (rejection{"body", "must be a JSON object, got 42"}));
  EXPECT_EQ(detail_error(R"("x")"), (rejection{"body", "must be a JSON object, got string"}));
  EXPECT_EQ(detail_error("null"), (rejection{"body", "must be a JSON object, got null"}));
}

TEST(animal_parse_detail, large_body_spilling_out_of_the_stack_arena_still_parses) {
  const std::string name(10'000, 'x');
  std::string friends;
  std::string pad = "0";
  for (int i = 0; i < 2000; ++i) {
    friends += fmt::format("Friend{},", i);
    pad += fmt::format(",{}", i);
  }
  auto d = parse_detail(fmt::format(
      R"({{"id":1,"name":"{}","born_at":null,"friends":"{}","pad":[{}]}})", name, friends, pad));
  ASSERT_TRUE(d.has_value()) << d.error().describe();
  EXPECT_EQ(d->name, name);
  EXPECT_EQ(d->friends, friends);
}

TEST(animal_parse_listing_page, valid_page) {
  auto p = parse_listing_page(R"({"page": 3, "total_pages": 541,
      "items": [{"id": 20, "name": "Trout", "born_at": null},
                {"id": 27, "name": "Wren", "born_at": 1484872785241},
                {"id": 28, "name": "Ibis"}]})");
  ASSERT_TRUE(p.has_value()) << p.error().describe();
  EXPECT_EQ(p->page, 3);
  EXPECT_EQ(p->total_pages, 541);
  EXPECT_EQ(p->items,
            (std::vector<listing_item>{{20, "Trout", std::nullopt}, {27, "Wren", 1484872785241}}));
  // An item without born_at is missing a field (null is how the source says "no date").
  ASSERT_EQ(p->rejected.size(), 1u);
  EXPECT_EQ(p->rejected[0].id, 28);
  EXPECT_EQ(p->rejected[0].reason.field, "born_at");
}

TEST(animal_parse_listing_page, page_past_the_end_has_no_items) {
  auto p = parse_listing_page(R"({"page":600,"total_pages":541,"items":[]})");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->page, 600);
  EXPECT_TRUE(p->items.empty());
  EXPECT_TRUE(p->rejected.empty());
}

TEST(animal_parse_listing_page, bad_items_are_rejected_one_by_one_and_good_ones_kept) {
  auto p = parse_listing_page(R"({"page":1,"total_pages":2,"items":[
      {"id":0,"name":"Trout","born_at":null},
      {"id":"1","name":"Wren","born_at":null},
      5,
      {"id":3,"name":"","born_at":null},
      {"id":4,"name":"Ibis","born_at":"yesterday"},
      {"id":5,"name":"Zebra","born_at":-1}]})");
  ASSERT_TRUE(p.has_value()) << p.error().describe();
  EXPECT_EQ(p->items, (std::vector<listing_item>{{0, "Trout", std::nullopt}, {5, "Zebra", -1}}));
  ASSERT_EQ(p->rejected.size(), 4u);

  EXPECT_EQ(p->rejected[0].id, std::nullopt);
  EXPECT_EQ(p->rejected[0].reason, (rejection{"id", "must be an integer >= 0, got string"}));
  EXPECT_EQ(p->rejected[0].raw, R"({"id":"1","name":"Wren","born_at":null})");

  EXPECT_EQ(p->rejected[1].id, std::nullopt);
  EXPECT_EQ(p->rejected[1].reason, (rejection{"record", "must be a JSON object, got 5"}));
  EXPECT_EQ(p->rejected[1].raw, "5");

  EXPECT_EQ(p->rejected[2].id, 3);
  EXPECT_EQ(p->rejected[2].reason.field, "name");

  EXPECT_EQ(p->rejected[3].id, 4);
  EXPECT_EQ(p->rejected[3].reason.describe(),
            "born_at: must be an integer (milliseconds since the epoch) or null, got string");
  EXPECT_EQ(p->rejected[3].raw, R"({"id":4,"name":"Ibis","born_at":"yesterday"})");
}

TEST(animal_parse_listing_page, raw_text_of_a_huge_rejected_item_is_truncated) {
  const std::string name(5000, 'n');
  auto p = parse_listing_page(fmt::format(
      R"({{"page":1,"total_pages":1,"items":[{{"id":-4,"name":"{}","born_at":null}}]}})", name));
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->rejected.size(), 1u);
  const std::string& raw = p->rejected[0].raw;
  const std::string full = fmt::format(R"({{"id":-4,"name":"{}","born_at":null}})", name);
  std::string expected = full.substr(0, raw_record_limit);
  expected.append(fmt::format(" ...[truncated, {} bytes]", full.size()));
  EXPECT_EQ(raw, expected);
}

TEST(animal_parse_listing_page, items_missing_or_not_an_array) {
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":5})"),
            (rejection{"items", "missing (must be an array)"}));
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":5,"items":{}})"),
            (rejection{"items", "must be an array, got object"}));
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":5,"items":null})"),
            (rejection{"items", "must be an array, got null"}));
}

TEST(animal_parse_listing_page, total_pages_and_page_must_be_non_negative_integers) {
  EXPECT_EQ(listing_error(R"({"page":1,"items":[]})"),
            (rejection{"total_pages", "missing (must be an integer >= 0)"}));
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":"541","items":[]})"),
            (rejection{"total_pages", "must be an integer >= 0, got string"}));
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":-1,"items":[]})"),
            (rejection{"total_pages", "must be an integer >= 0, got -1"}));
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":5.0,"items":[]})"),
            (rejection{"total_pages", "must be an integer >= 0, got float 5.0"}));
  EXPECT_EQ(listing_error(R"({"total_pages":5,"items":[]})"),
            (rejection{"page", "missing (must be an integer >= 0)"}));
  EXPECT_EQ(listing_error(R"({"page":null,"total_pages":5,"items":[]})"),
            (rejection{"page", "must be an integer >= 0, got null"}));
}

TEST(animal_parse_listing_page, bad_json_and_not_an_object) {
  EXPECT_EQ(listing_error("Sorry!").field, "body");
  EXPECT_EQ(listing_error("").field, "body");
  EXPECT_EQ(listing_error(R"({"page":1,"total_pages":5,"items":[)").problem,
            "not valid JSON: incomplete JSON at byte 35");
  EXPECT_EQ(listing_error("[]"), (rejection{"body", "must be a JSON object, got array"}));
}

}  // namespace
}  // namespace etl
