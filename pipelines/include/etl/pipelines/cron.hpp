// Cron expressions for pipeline schedules: the five classic fields (minute, hour, day of month,
// month, day of week; UTC), each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a
// list of those. When both day fields are restricted, a day matches either (as cron does).
// Day of week counts from Sunday, 0 (7 is Sunday too). Pure functions over system time.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace etl {

using sys_minutes = std::chrono::time_point<std::chrono::system_clock, std::chrono::minutes>;

struct cron_expr {
  std::bitset<60> minute_set;
  std::bitset<24> hour_set;
  std::bitset<32> day_set;     // 1..31
  std::bitset<13> month_set;   // 1..12
  std::bitset<7> weekday_set;  // 0 (Sunday)..6
  bool any_day = true;         // the day-of-month field is `*`
  bool any_weekday = true;     // the day-of-week field is `*`
  std::string text;            // as written

  // Whether the minute `t` matches.
  bool matches(sys_minutes t) const;
  // The first matching minute after `t`, within five years; nullopt for an expression that
  // never matches (February 30th).
  std::optional<sys_minutes> next_after(sys_minutes t) const;
  // The last matching minute at or before `t`, within five years.
  std::optional<sys_minutes> last_at_or_before(sys_minutes t) const;
};

// `text` parsed; the error names the field and what is wrong with it ("hour: 24 is outside
// 0..23").
boost::system::result<cron_expr, std::string> parse_cron(std::string_view text);

}  // namespace etl
