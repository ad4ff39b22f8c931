// Transform: friends splitting, detail -> home, and ISO 8601 formatting checked against known
// instants (from GNU date) and against a naive year-by-year reference.
#include "etl/animal/transform.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace etl {
namespace {

using strings = std::vector<std::string>;

TEST(animal_split_friends, empty_string_gives_no_friends) {
  EXPECT_EQ(split_friends(""), strings{});
}

TEST(animal_split_friends, single_friend) {
  EXPECT_EQ(split_friends("Falcon"), strings{"Falcon"});
}

TEST(animal_split_friends, five_friends_in_order) {
  EXPECT_EQ(split_friends("Falcon,Jackal,Ibis,Zebra,Marten"),
            (strings{"Falcon", "Jackal", "Ibis", "Zebra", "Marten"}));
}

TEST(animal_split_friends, empty_pieces_are_dropped) {
  EXPECT_EQ(split_friends("A,,B"), (strings{"A", "B"}));
  EXPECT_EQ(split_friends("A,"), strings{"A"});
  EXPECT_EQ(split_friends(",A"), strings{"A"});
  EXPECT_EQ(split_friends(","), strings{});
  EXPECT_EQ(split_friends(",,,"), strings{});
}

TEST(animal_split_friends, whitespace_is_kept) {
  EXPECT_EQ(split_friends(" A , B"), (strings{" A ", " B"}));
}

TEST(animal_split_friends, utf8_names_are_kept) {
  EXPECT_EQ(split_friends("Lišák,狐狸"), (strings{"Lišák", "狐狸"}));
}

TEST(animal_to_home, copies_id_name_born_at_and_splits_friends) {
  const animal_detail detail{25, "Chough", 1484872785241, "Falcon,Jackal"};
  const home_animal expected{25, "Chough", {"Falcon", "Jackal"}, 1484872785241};
  EXPECT_EQ(to_home(detail), expected);
  EXPECT_EQ(detail.name, "Chough");  // the const& overload leaves its argument alone
}

TEST(animal_to_home, rvalue_overload_gives_the_same_animal) {
  animal_detail detail{7, "Wren", std::nullopt, ""};
  EXPECT_EQ(to_home(std::move(detail)), (home_animal{7, "Wren", {}, std::nullopt}));
}

TEST(animal_format_iso8601_ms, epoch_zero) {
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(animal_format_iso8601_ms, one_millisecond_before_the_epoch) {
  EXPECT_EQ(format_iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_iso8601_ms(-86'400'000), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(-86'400'001), "1969-12-30T23:59:59.999Z");
}

// Expected texts from `date -u -d @<seconds>.<ms>`, not from this code.
TEST(animal_format_iso8601_ms, known_instants_to_the_millisecond) {
  struct known {
    std::int64_t ms;
    const char* text;
  };
  const known cases[] = {
      {1484872785241, "2017-01-20T00:39:45.241Z"}, {536457600000, "1987-01-01T00:00:00.000Z"},
      {-14182939877, "1969-07-20T20:17:40.123Z"},  {-2208988800000, "1900-01-01T00:00:00.000Z"},
      {2147483648000, "2038-01-19T03:14:08.000Z"}, {1, "1970-01-01T00:00:00.001Z"},
      {999, "1970-01-01T00:00:00.999Z"},           {86'399'999, "1970-01-01T23:59:59.999Z"},
  };
  for (const known& c : cases) {
    EXPECT_EQ(format_iso8601_ms(c.ms), c.text) << c.ms;
  }
}

TEST(animal_format_iso8601_ms, leap_days) {
  EXPECT_EQ(format_iso8601_ms(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(951868799999), "2000-02-29T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(951868800000), "2000-03-01T00:00:00.000Z");
  // 2100 is not a leap year: February 28 is followed by March 1.
  EXPECT_EQ(format_iso8601_ms(4107542399999), "2100-02-28T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(4107542400000), "2100-03-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(-11670955199999), "1600-02-29T12:00:00.001Z");
}

TEST(animal_format_iso8601_ms, range_limits) {
  EXPECT_EQ(format_iso8601_ms(born_at_min_ms), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(born_at_max_ms), "9999-12-31T23:59:59.999Z");
}

TEST(animal_format_iso8601_ms, outside_the_range_throws) {
  EXPECT_THROW(format_iso8601_ms(born_at_min_ms - 1), std::out_of_range);
  EXPECT_THROW(format_iso8601_ms(born_at_max_ms + 1), std::out_of_range);
  EXPECT_THROW(format_iso8601_ms(std::numeric_limits<std::int64_t>::min()), std::out_of_range);
  EXPECT_THROW(format_iso8601_ms(std::numeric_limits<std::int64_t>::max()), std::out_of_range);
}

TEST(animal_write_iso8601_ms, writes_exactly_24_characters) {
  std::array<char, iso8601_ms_length + 2> buffer;
  buffer.fill('#');
  write_iso8601_ms(1484872785241, std::span<char, iso8601_ms_length>(buffer.data() + 1, 24));
  EXPECT_EQ(std::string(buffer.data(), buffer.size()), "#2017-01-20T00:39:45.241Z#");
}

// A deliberately naive reference: walk whole years, then months, from 1970.
std::string reference_iso8601(std::int64_t ms) {
  constexpr std::int64_t day_ms = 86'400'000;
  std::int64_t days = ms / day_ms;
  std::int64_t rest = ms % day_ms;
  if (rest < 0) {
    rest += day_ms;
    days -= 1;
  }
  auto leap = [](std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  std::int64_t year = 1970;
  while (days < 0) {
    year -= 1;
    days += leap(year) ? 366 : 365;
  }
  while (days >= (leap(year) ? 366 : 365)) {
    days -= leap(year) ? 366 : 365;
    year += 1;
  }
  const int month_days[] = {31, leap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int month = 0;
  while (days >= month_days[month]) {
    days -= month_days[month];
    month += 1;
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month + 1, days + 1,
                     rest / 3'600'000, rest / 60'000 % 60, rest / 1000 % 60, rest % 1000);
}

TEST(animal_format_iso8601_ms, matches_a_naive_reference_across_the_range) {
  // A fixed linear congruential sequence spread over the whole range, plus day boundaries.
  std::uint64_t state = 42;
  const auto span = static_cast<std::uint64_t>(born_at_max_ms - born_at_min_ms) + 1;
  for (int i = 0; i < 3000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::int64_t ms = born_at_min_ms + static_cast<std::int64_t>((state >> 11) % span);
    ASSERT_EQ(format_iso8601_ms(ms), reference_iso8601(ms)) << ms;
  }
  for (std::int64_t day = -800; day <= 800; ++day) {
    for (std::int64_t offset : {-1, 0, 1}) {
      const std::int64_t ms = day * 86'400'000 + offset;
      ASSERT_EQ(format_iso8601_ms(ms), reference_iso8601(ms)) << ms;
    }
  }
}

}  // namespace
}  // namespace etl
