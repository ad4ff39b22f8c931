#include "etl/sim/validate.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace etl {
namespace {

constexpr std::int64_t micros_2017 = 1'484'872'785'241'000;  // 2017-01-20T00:39:45.241Z

TEST(sim_iso8601, accepts_utc_and_offsets_with_or_without_fractions) {
  const std::pair<std::string_view, std::int64_t> cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2017-01-20T00:39:45.241Z", micros_2017},
      {"2017-01-20T00:39:45.241+00:00", micros_2017},
      {"2017-01-20T00:39:45.241-00:00", micros_2017},
      {"2017-01-20T02:39:45.241+02:00", micros_2017},
      {"2017-01-19T22:09:45.241-02:30", micros_2017},
      {"2017-01-20T00:39:45Z", micros_2017 - 241'000},
      {"2017-01-20T00:39:45.2Z", micros_2017 - 41'000},
      {"2017-01-20T00:39:45.241123Z", micros_2017 + 123},
      {"2017-01-20T00:39:45.241123999Z", micros_2017 + 123},  // past the 6th: ignored
      {"2000-02-29T00:00:00Z", 951'782'400'000'000},
      {"1987-01-01T00:00:00Z", 536'457'600'000'000},
      {"1969-12-31T23:59:59.999Z", -1'000},
  };
  for (const auto& [text, expected] : cases) {
    const auto parsed = parse_iso8601_micros(text);
    ASSERT_TRUE(parsed.micros) << text << ": " << parsed.why;
    EXPECT_EQ(*parsed.micros, expected) << text;
    EXPECT_TRUE(parsed.why.empty());
  }
}

TEST(sim_iso8601, refuses_other_shapes_out_of_range_fields_and_naive_times) {
  const std::string_view cases[] = {
      "",
      "2017-01-20",
      "2017-01-20T00:39:45",  // no timezone
      "2017-01-20T00:39:45.241",
      "2017-01-20 00:39:45Z",
      "2017-01-20T00:39Z",
      "17-01-20T00:39:45Z",
      "2017-1-20T00:39:45Z",
      "2017-13-01T00:00:00Z",
      "2017-00-01T00:00:00Z",
      "2017-02-29T00:00:00Z",
      "2017-04-31T00:00:00Z",
      "2017-01-20T24:00:00Z",
      "2017-01-20T00:60:00Z",
      "2017-01-20T00:00:60Z",
      "2017-01-20T00:00:00+24:00",
      "2017-01-20T00:00:00+01:60",
      "2017-01-20T00:00:00+0100",
      "2017-01-20T00:00:00+01",
      "2017-01-20T00:00:00.Z",
      "2017-01-20T00:00:00.1234567890123Z",
      "2017-01-20T00:00:00Zjunk",
      "2017-01-20T00:00:00z",
      "0000-01-01T00:00:00Z",
      "1484872785241",
      " 2017-01-20T00:39:45Z",
  };
  for (const auto text : cases) {
    const auto parsed = parse_iso8601_micros(text);
    EXPECT_FALSE(parsed.micros) << "'" << text << "' was accepted";
    EXPECT_FALSE(parsed.why.empty()) << text;
  }
  EXPECT_NE(parse_iso8601_micros("2017-01-20T00:39:45").why.find("timezone"),
            std::string_view::npos);
  EXPECT_NE(parse_iso8601_micros("2017-02-30T00:39:45Z").why.find("day"), std::string_view::npos);
}

TEST(sim_python_int, reads_what_python_int_reads) {
  const std::tuple<std::string_view, std::int64_t, std::string_view> ok[] = {
      {"7", 7, "7"},        {" 7 ", 7, "7"},
      {"+7", 7, "7"},       {"-3", -3, "-3"},
      {"007", 7, "7"},      {"0", 0, "0"},
      {"-0", 0, "0"},       {"1_000", 1000, "1000"},
      {"\t42\n", 42, "42"}, {"9223372036854775807", INT64_MAX, "9223372036854775807"},
  };
  for (const auto& [text, value, literal] : ok) {
    const auto parsed = parse_python_int(text);
    ASSERT_TRUE(parsed.value) << text;
    EXPECT_EQ(*parsed.value, value) << text;
    EXPECT_EQ(parsed.literal, literal) << text;
    EXPECT_FALSE(parsed.overflow) << text;
  }
  for (const auto text :
       {"", " ", "abc", "1.0", "1e3", "0x10", "1__0", "_1", "1_", "+", "--1", "1 2"}) {
    EXPECT_FALSE(parse_python_int(text).value) << "'" << text << "' was accepted";
  }
  const auto big = parse_python_int("123456789012345678901234567890");
  ASSERT_TRUE(big.value);
  EXPECT_TRUE(big.overflow);
  EXPECT_EQ(big.literal, "123456789012345678901234567890");
  EXPECT_TRUE(parse_python_int("-9223372036854775809").overflow);
}

// The (loc, type) pairs of a verdict, loc serialized, for compact expectations.
std::vector<std::pair<std::string, std::string>> verdicts(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : validate_home_body(body).errors) {
    out.emplace_back(boost::json::serialize(e.loc), e.type);
  }
  return out;
}

using verdict_list = std::vector<std::pair<std::string, std::string>>;

TEST(sim_validate, accepts_the_home_shape) {
  const auto v = validate_home_body(R"([
    {"id": 25, "name": "Chough", "friends": ["Falcon", "Jackal"], "born_at": null},
    {"id": 27, "name": "Wren", "friends": [], "born_at": "2017-01-20T00:39:45.241Z"},
    {"id": 28, "name": "Owl", "friends": [], "extra": true}])");
  ASSERT_TRUE(v.ok()) << validation_error_body(v.errors);
  ASSERT_EQ(v.animals.size(), 3U);
  EXPECT_EQ(v.animals[0].id, 25);
  EXPECT_EQ(v.animals[0].name, "Chough");
  EXPECT_EQ(v.animals[0].friends, (std::vector<std::string>{"Falcon", "Jackal"}));
  EXPECT_FALSE(v.animals[0].born_at_micros);
  EXPECT_EQ(v.animals[1].born_at_micros, micros_2017);
  EXPECT_FALSE(v.animals[2].born_at_micros) << "an absent born_at is null";
  EXPECT_TRUE(validate_home_body("[]").ok());
}

TEST(sim_validate, body_level_errors) {
  EXPECT_EQ(verdicts(""), (verdict_list{{R"(["body"])", "value_error.missing"}}));
  EXPECT_EQ(verdicts("{}"), (verdict_list{{R"(["body"])", "type_error.list"}}));
  EXPECT_EQ(verdicts("[1]"), (verdict_list{{R"(["body",0])", "type_error.dict"}}));
  for (const auto bad : {"[", "[1,]", "{\"id\":", "[] x", "nope"}) {
    const auto v = verdicts(bad);
    ASSERT_EQ(v.size(), 1U) << bad;
    EXPECT_EQ(v[0].second, "value_error.jsondecode") << bad;
    EXPECT_TRUE(v[0].first.starts_with(R"(["body",)")) << v[0].first;
  }
}

TEST(sim_validate, field_errors_name_the_item_and_field) {
  const auto at = [](std::string_view item) { return "[" + std::string(item) + "]"; };
  const std::string ok_rest = R"("name":"A","friends":[],"born_at":null)";
  EXPECT_EQ(verdicts(at("{" + ok_rest + "}")),
            (verdict_list{{R"(["body",0,"id"])", "value_error.missing"}}));
  for (const auto id : {R"("5")", "5.0", "true", "[5]"}) {
    EXPECT_EQ(verdicts(at("{\"id\":" + std::string(id) + "," + ok_rest + "}")),
              (verdict_list{{R"(["body",0,"id"])", "type_error.integer"}}))
        << id;
  }
  EXPECT_EQ(verdicts(at("{\"id\":null," + ok_rest + "}")),
            (verdict_list{{R"(["body",0,"id"])", "type_error.none.not_allowed"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"name":3,"friends":[]})")),
            (verdict_list{{R"(["body",0,"name"])", "type_error.str"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"friends":[]})")),
            (verdict_list{{R"(["body",0,"name"])", "value_error.missing"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"name":"A","friends":"B,C"})")),
            (verdict_list{{R"(["body",0,"friends"])", "type_error.list"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"name":"A","friends":["B",2]})")),
            (verdict_list{{R"(["body",0,"friends",1])", "type_error.str"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"name":"A"})")),
            (verdict_list{{R"(["body",0,"friends"])", "value_error.missing"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"name":"A","friends":[],"born_at":"2017-01-20T00:39:45"})")),
            (verdict_list{{R"(["body",0,"born_at"])", "value_error.datetime"}}));
  EXPECT_EQ(verdicts(at(R"({"id":1,"name":"A","friends":[],"born_at":1484872785241})")),
            (verdict_list{{R"(["body",0,"born_at"])", "type_error.datetime"}}));
}

TEST(sim_validate, collects_every_error_of_every_item) {
  const auto v = validate_home_body(R"([
    {"id": 1, "name": "A", "friends": []},
    {"id": "2", "name": null, "friends": [], "born_at": "yesterday"},
    {"id": 3, "name": "C", "friends": [null]}])");
  EXPECT_TRUE(v.animals.empty()) << "no animals out of an invalid body";
  EXPECT_EQ(verdicts(R"([
    {"id": 1, "name": "A", "friends": []},
    {"id": "2", "name": null, "friends": [], "born_at": "yesterday"},
    {"id": 3, "name": "C", "friends": [null]}])"),
            (verdict_list{{R"(["body",1,"id"])", "type_error.integer"},
                          {R"(["body",1,"name"])", "type_error.none.not_allowed"},
                          {R"(["body",1,"born_at"])", "value_error.datetime"},
                          {R"(["body",2,"friends",0])", "type_error.none.not_allowed"}}));
}

TEST(sim_validate, error_body_is_fastapis_shape) {
  const auto v = validate_home_body(R"([{"id": 1, "name": "A", "friends": 7}])");
  const auto body = boost::json::parse(validation_error_body(v.errors));
  const auto& detail = body.at("detail").as_array();
  ASSERT_EQ(detail.size(), 1U);
  EXPECT_EQ(detail[0].at("loc"), (boost::json::array{"body", 0, "friends"}));
  EXPECT_EQ(detail[0].at("msg"), "value is not a valid list");
  EXPECT_EQ(detail[0].at("type"), "type_error.list");
}

}  // namespace
}  // namespace etl
