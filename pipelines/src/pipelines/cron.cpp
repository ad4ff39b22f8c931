#include "etl/pipelines/cron.hpp"

#include <charconv>
#include <vector>

namespace etl {
namespace {

using namespace std::chrono;

struct field_range {
  const char* name;
  int lo, hi;
};

std::optional<int> number(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

// One field's values as bits lo..hi, or an error naming the field.
boost::system::result<std::vector<bool>, std::string> parse_field(std::string_view text,
                                                                  field_range r) {
  std::vector<bool> bits(static_cast<std::size_t>(r.hi + 1), false);
  const auto fail = [&](const std::string& why) { return std::string(r.name) + ": " + why; };
  while (true) {
    const auto comma = text.find(',');
    auto part = text.substr(0, comma);
    int step = 1;
    if (const auto slash = part.find('/'); slash != std::string_view::npos) {
      const auto s = number(part.substr(slash + 1));
      if (!s || *s < 1)
        return fail("'" + std::string(part) + "' has a step that is not a positive number");
      step = *s;
      part = part.substr(0, slash);
    }
    int lo = r.lo, hi = r.hi;
    if (part != "*") {
      const auto dash = part.find('-');
      const auto a = number(part.substr(0, dash));
      const auto b = dash == std::string_view::npos ? a : number(part.substr(dash + 1));
      if (!a || !b)
        return fail("'" + std::string(part) + "' is not a number, a range or *");
      lo = *a;
      hi = *b;
      if (lo < r.lo || hi > r.hi || lo > hi)
        return fail("'" + std::string(part) + "' is outside " + std::to_string(r.lo) + ".." +
                    std::to_string(r.hi));
      if (dash == std::string_view::npos && step > 1)
        hi = r.hi;  // "5/15": from 5 on, every 15
    }
    for (int v = lo; v <= hi; v += step)
      bits[static_cast<std::size_t>(v)] = true;
    if (comma == std::string_view::npos)
      break;
    text = text.substr(comma + 1);
  }
  return bits;
}

template <std::size_t N>
void copy_bits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (std::size_t i = 0; i < N && i < from.size(); ++i)
    to[i] = from[i];
}

bool day_matches(const cron_expr& c, year_month_day ymd) {
  const auto day = static_cast<unsigned>(ymd.day());
  const auto weekday = year_month_weekday(sys_days(ymd)).weekday().c_encoding();
  if (!c.month_set[static_cast<unsigned>(ymd.month())])
    return false;
  const bool by_day = c.day_set[day];
  const bool by_weekday = c.weekday_set[weekday];
  if (c.any_day && c.any_weekday)
    return true;
  if (c.any_day)
    return by_weekday;
  if (c.any_weekday)
    return by_day;
  return by_day || by_weekday;
}

constexpr int search_days = 5 * 366;

}  // namespace

bool cron_expr::matches(sys_minutes t) const {
  const auto day = floor<days>(t);
  const auto in_day = t - day;
  const auto h = duration_cast<hours>(in_day).count();
  const auto m = (in_day - hours(h)).count();
  return day_matches(*this, year_month_day(day)) && hour_set[static_cast<std::size_t>(h)] &&
         minute_set[static_cast<std::size_t>(m)];
}

std::optional<sys_minutes> cron_expr::next_after(sys_minutes t) const {
  auto day = floor<days>(t);
  for (int d = 0; d <= search_days; ++d, day += days(1)) {
    if (!day_matches(*this, year_month_day(day)))
      continue;
    for (int h = 0; h < 24; ++h) {
      if (!hour_set[static_cast<std::size_t>(h)])
        continue;
      for (int m = 0; m < 60; ++m) {
        const auto candidate = sys_minutes(day) + std::chrono::hours(h) + std::chrono::minutes(m);
        if (candidate > t && minute_set[static_cast<std::size_t>(m)])
          return candidate;
      }
    }
  }
  return std::nullopt;
}

std::optional<sys_minutes> cron_expr::last_at_or_before(sys_minutes t) const {
  auto day = floor<days>(t);
  for (int d = 0; d <= search_days; ++d, day -= days(1)) {
    if (!day_matches(*this, year_month_day(day)))
      continue;
    for (int h = 23; h >= 0; --h) {
      if (!hour_set[static_cast<std::size_t>(h)])
        continue;
      for (int m = 59; m >= 0; --m) {
        const auto candidate = sys_minutes(day) + std::chrono::hours(h) + std::chrono::minutes(m);
        if (candidate <= t && minute_set[static_cast<std::size_t>(m)])
          return candidate;
      }
    }
  }
  return std::nullopt;
}

boost::system::result<cron_expr, std::string> parse_cron(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ')
      ++i;
    const auto start = i;
    while (i < text.size() && text[i] != ' ')
      ++i;
    if (i > start)
      parts.push_back(text.substr(start, i - start));
  }
  if (parts.size() != 5)
    return std::string("needs five fields (minute hour day-of-month month day-of-week), got ") +
           std::to_string(parts.size());
  cron_expr c;
  c.text = std::string(text);
  static constexpr field_range ranges[] = {{"minute", 0, 59},
                                           {"hour", 0, 23},
                                           {"day of month", 1, 31},
                                           {"month", 1, 12},
                                           {"day of week", 0, 7}};
  std::vector<std::vector<bool>> bits;
  for (std::size_t f = 0; f < 5; ++f) {
    auto b = parse_field(parts[f], ranges[f]);
    if (!b)
      return b.error();
    bits.push_back(std::move(*b));
  }
  copy_bits(bits[0], c.minute_set);
  copy_bits(bits[1], c.hour_set);
  copy_bits(bits[2], c.day_set);
  copy_bits(bits[3], c.month_set);
  copy_bits(bits[4], c.weekday_set);
  if (bits[4][7])
    c.weekday_set[0] = true;  // 7 is Sunday too
  c.any_day = parts[2] == "*";
  c.any_weekday = parts[4] == "*";
  if (!c.next_after(sys_minutes(std::chrono::minutes(0))))
    return std::string("never matches a day that exists");
  return c;
}

}  // namespace etl
