// The model's helpers: rejection text, result<T, rejection>::value(), and storable raw text.
#include "etl/animal/animal.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <boost/system/result.hpp>

namespace etl {
namespace {

constexpr std::string_view fffd = "\xEF\xBF\xBD";

TEST(animal_rejection, describe_is_field_colon_problem) {
  const rejection r{"born_at",
                    "must be an integer (milliseconds since the epoch) or null, got string"};
  EXPECT_EQ(r.describe(),
            "born_at: must be an integer (milliseconds since the epoch) or null, got string");
}

TEST(animal_rejection, value_of_an_error_result_throws_with_the_description) {
  const boost::system::result<int, rejection> r = rejection{"id", "missing"};
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("id: missing"), std::string::npos) << e.what();
  }
}

TEST(animal_born_at_in_range, limits) {
  EXPECT_TRUE(born_at_in_range(0));
  EXPECT_TRUE(born_at_in_range(born_at_min_ms));
  EXPECT_TRUE(born_at_in_range(born_at_max_ms));
  EXPECT_FALSE(born_at_in_range(born_at_min_ms - 1));
  EXPECT_FALSE(born_at_in_range(born_at_max_ms + 1));
}

TEST(animal_storable_raw, short_text_is_unchanged) {
  EXPECT_EQ(storable_raw(R"({"id":1,"name":"Lišák"})"), R"({"id":1,"name":"Lišák"})");
  EXPECT_EQ(storable_raw(""), "");
}

TEST(animal_storable_raw, long_text_is_cut_at_the_limit_and_says_so) {
  const std::string text(3000, 'a');
  // Built with append: GCC 12 warns falsely (array-bounds) about string&& + literal here.
  std::string expected(raw_record_limit, 'a');
  expected.append(" ...[truncated, 3000 bytes]");
  EXPECT_EQ(storable_raw(text), expected);
  EXPECT_EQ(storable_raw("abcdef", 6), "abcdef");
  EXPECT_EQ(storable_raw("abcdefg", 6), "abcdef ...[truncated, 7 bytes]");
}

TEST(animal_storable_raw, never_cuts_a_utf8_character_in_two) {
  // "é" is two bytes: with room for three, the second "é" does not fit whole.
  EXPECT_EQ(storable_raw("aéé", 4), "aé ...[truncated, 5 bytes]");
  EXPECT_EQ(storable_raw("a🦊", 4), "a ...[truncated, 5 bytes]");
  EXPECT_EQ(storable_raw("a🦊", 5), "a🦊");
}

TEST(animal_storable_raw, invalid_utf8_and_nul_are_replaced) {
  using namespace std::string_literals;
  const std::string r = std::string(fffd);
  EXPECT_EQ(storable_raw("a\xFF"
                         "b"),
            "a" + r + "b");
  EXPECT_EQ(storable_raw("a\0b"s), "a" + r + "b");
  EXPECT_EQ(storable_raw("\x80"), r);                          // a lone continuation byte
  EXPECT_EQ(storable_raw("\xC0\xAF"), r + r);                  // an overlong "/"
  EXPECT_EQ(storable_raw("\xED\xA0\x80"), r + r + r);          // a UTF-16 surrogate
  EXPECT_EQ(storable_raw("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(storable_raw("x\xE2\x82"), "x" + r + r);           // cut short at the end
  EXPECT_EQ(storable_raw("\xE2\x82\xAC"), "\xE2\x82\xAC");     // "€" is fine
}

TEST(animal_make_rejected_record, keeps_id_and_reason_and_stores_raw_safely) {
  const rejected_record r = make_rejected_record(7, rejection{"name", "missing"}, "{\xFF}");
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.reason, (rejection{"name", "missing"}));
  EXPECT_EQ(r.raw, "{" + std::string(fffd) + "}");
}

}  // namespace
}  // namespace etl
