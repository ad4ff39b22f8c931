// The POST body for home: exact text, JSON escaping, and round trips through boost::json::parse.
#include "etl/animal/home_payload.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "etl/animal/parse.hpp"
#include "etl/animal/transform.hpp"

namespace etl {
namespace {

namespace json = boost::json;

TEST(animal_serialize_home_batch, exact_text_of_one_animal) {
  const std::vector<home_animal> batch{{25, "Chough", {"Falcon", "Jackal"}, std::nullopt}};
  EXPECT_EQ(serialize_home_batch(batch),
            R"([{"id":25,"name":"Chough","friends":["Falcon","Jackal"],"born_at":null}])");
}

TEST(animal_serialize_home_batch, empty_batch_is_an_empty_array) {
  EXPECT_EQ(serialize_home_batch({}), "[]");
}

TEST(animal_serialize_home_batch, born_at_as_iso_and_no_friends) {
  const std::vector<home_animal> batch{{27, "Wren", {}, 1484872785241}, {0, "Ibis", {"Zebra"}, -1}};
  EXPECT_EQ(serialize_home_batch(batch),
            R"([{"id":27,"name":"Wren","friends":[],"born_at":"2017-01-20T00:39:45.241Z"},)"
            R"({"id":0,"name":"Ibis","friends":["Zebra"],"born_at":"1969-12-31T23:59:59.999Z"}])");
}

TEST(animal_serialize_home_batch, round_trips_to_the_expected_structure) {
  std::vector<home_animal> batch;
  json::array expected;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(home_batch_max); ++i) {
    home_animal a{i * 1000 + 7, fmt::format("Animal {}", i), {}, std::nullopt};
    json::array friends;
    for (std::int64_t f = 0; f < i % 6; ++f) {
      a.friends.push_back(fmt::format("Friend{}", f));
      friends.emplace_back(a.friends.back());
    }
    json::value born = nullptr;
    if (i % 3 == 0) {
      a.born_at_ms = 536457600000 + i * 86'400'001;
      born = json::string(format_iso8601_ms(*a.born_at_ms));
    }
    expected.push_back(
        json::object{{"id", a.id}, {"name", a.name}, {"friends", friends}, {"born_at", born}});
    batch.push_back(std::move(a));
  }
  const json::value parsed = json::parse(serialize_home_batch(batch));
  EXPECT_EQ(parsed, json::value(expected));
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed.as_array().size(), home_batch_max);
}

TEST(animal_append_json_string, escapes_quote_backslash_and_control_characters) {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\te\x01\x1f/\x7f");
  EXPECT_EQ(out, R"("a\"b\\c\u000ad\u0009e\u0001\u001f/)"
                 "\x7f\"");
  std::string nul;
  append_json_string(nul, std::string_view("x\0y", 3));
  EXPECT_EQ(nul, R"("x\u0000y")");
}

TEST(animal_append_json_string, escaped_strings_round_trip) {
  std::string all_bytes;
  for (int c = 1; c < 0x80; ++c) {
    all_bytes += static_cast<char>(c);
  }
  all_bytes += std::string("\0end", 4);
  std::string out;
  append_json_string(out, all_bytes);
  EXPECT_EQ(json::parse(out).as_string(), all_bytes);
}

TEST(animal_serialize_home_batch, utf8_names_are_kept_byte_for_byte) {
  const std::string name = "Lišák 狐狸 🦊";
  const std::vector<home_animal> batch{{1, name, {"Žába", "Ёж"}, std::nullopt}};
  const std::string body = serialize_home_batch(batch);
  EXPECT_NE(body.find(name), std::string::npos);
  const json::value parsed = json::parse(body);
  EXPECT_EQ(parsed.at(0).at("name").as_string(), name);
  EXPECT_EQ(parsed.at(0).at("friends").at(1).as_string(), "Ёж");
}

TEST(animal_serialize_home_batch, tricky_names_round_trip) {
  const std::vector<home_animal> batch{
      {1, "say \"hi\"", {"back\\slash", "tab\there"}, 0},
      {2, "line\nbreak", {"\x01"}, std::nullopt},
  };
  const json::value parsed = json::parse(serialize_home_batch(batch));
  EXPECT_EQ(parsed.at(0).at("name").as_string(), "say \"hi\"");
  EXPECT_EQ(parsed.at(0).at("friends").at(0).as_string(), "back\\slash");
  EXPECT_EQ(parsed.at(0).at("friends").at(1).as_string(), "tab\there");
  EXPECT_EQ(parsed.at(0).at("born_at").as_string(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(parsed.at(1).at("name").as_string(), "line\nbreak");
  EXPECT_EQ(parsed.at(1).at("friends").at(0).as_string(), "\x01");
}

TEST(animal_serialize_home_batch, born_at_outside_the_range_throws) {
  const std::vector<home_animal> batch{{1, "Wren", {}, born_at_max_ms + 1}};
  EXPECT_THROW(serialize_home_batch(batch), std::out_of_range);
}

TEST(animal_append_home_animal, appends_to_what_is_there) {
  std::string out = "prefix:";
  append_home_animal(out, home_animal{-3, "A", {}, std::nullopt});
  EXPECT_EQ(out, R"(prefix:{"id":-3,"name":"A","friends":[],"born_at":null})");
}

TEST(animal_home_payload, detail_to_post_body_end_to_end) {
  auto detail = parse_detail(
      R"({"id":27,"name":"Wren","born_at":1484872785241,"friends":"Falcon,,Jackal,"})");
  ASSERT_TRUE(detail.has_value()) << detail.error().describe();
  const std::vector<home_animal> batch{to_home(std::move(*detail))};
  EXPECT_EQ(json::parse(serialize_home_batch(batch)),
            json::parse(R"([{"id":27,"name":"Wren","friends":["Falcon","Jackal"],)"
                        R"("born_at":"2017-01-20T00:39:45.241Z"}])"));
}

}  // namespace
TEST(animal_home_requests, never_more_than_a_hundred_animals_a_post) {
  std::vector<home_animal> animals(250);
  for (std::size_t i = 0; i < animals.size(); ++i) {
    animals[i].id = static_cast<std::int64_t>(i);
    animals[i].name = "a" + std::to_string(i);
  }
  const auto requests = home_requests(animals);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].animals, 100u);
  EXPECT_EQ(requests[1].animals, 100u);
  EXPECT_EQ(requests[2].animals, 50u);
  EXPECT_EQ(requests[2].body, serialize_home_batch(std::span(animals).subspan(200)));
  EXPECT_TRUE(home_requests({}).empty());
}

}  // namespace etl
