#include "etl/animal/transform.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace etl {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

// The accepted range is exactly the four-digit years: check the constants against the calendar.
constexpr std::int64_t days_to_ms(std::chrono::sys_days d) {
  return static_cast<std::int64_t>(d.time_since_epoch().count()) * ms_per_day;
}
static_assert(born_at_min_ms ==
              days_to_ms(std::chrono::year{1} / std::chrono::January / std::chrono::day{1}));
static_assert(born_at_max_ms + 1 ==
              days_to_ms(std::chrono::year{10000} / std::chrono::January / std::chrono::day{1}));

void put_digits(char* out, unsigned value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::vector<std::string> split_friends(std::string_view friends) {
  std::vector<std::string> names;
  if (friends.empty()) {
    return names;
  }
  names.reserve(static_cast<std::size_t>(std::count(friends.begin(), friends.end(), ',')) + 1);
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = friends.find(',', start);
    const std::string_view piece = friends.substr(start, comma - start);
    if (!piece.empty()) {
      names.emplace_back(piece);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return names;
}

home_animal to_home(const animal_detail& detail) {
  return home_animal{detail.id, detail.name, split_friends(detail.friends), detail.born_at};
}

home_animal to_home(animal_detail&& detail) {
  return home_animal{detail.id, std::move(detail.name), split_friends(detail.friends),
                     detail.born_at};
}

void write_iso8601_ms(std::int64_t ms, std::span<char, iso8601_ms_length> out) {
  if (!born_at_in_range(ms)) {
    throw std::out_of_range(fmt::format("write_iso8601_ms: {} ms is outside {}..{}", ms,
                                        born_at_min_ms, born_at_max_ms));
  }
  // Floor division: -1 ms is the last millisecond of day -1 (1969-12-31), not of day 0.
  std::int64_t days = ms / ms_per_day;
  std::int64_t ms_of_day = ms % ms_per_day;
  if (ms_of_day < 0) {
    ms_of_day += ms_per_day;
    --days;
  }
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{days}}};
  const auto year = static_cast<unsigned>(static_cast<int>(date.year()));  // 1..9999 here
  const auto of_day = static_cast<unsigned>(ms_of_day);

  char* p = out.data();
  put_digits(p, year, 4);
  p[4] = '-';
  put_digits(p + 5, static_cast<unsigned>(date.month()), 2);
  p[7] = '-';
  put_digits(p + 8, static_cast<unsigned>(date.day()), 2);
  p[10] = 'T';
  put_digits(p + 11, of_day / 3'600'000, 2);
  p[13] = ':';
  put_digits(p + 14, of_day / 60'000 % 60, 2);
  p[16] = ':';
  put_digits(p + 17, of_day / 1'000 % 60, 2);
  p[19] = '.';
  put_digits(p + 20, of_day % 1'000, 3);
  p[23] = 'Z';
}

std::string format_iso8601_ms(std::int64_t ms) {
  std::string text(iso8601_ms_length, '\0');
  write_iso8601_ms(ms, std::span<char, iso8601_ms_length>(text.data(), iso8601_ms_length));
  return text;
}

}  // namespace etl
