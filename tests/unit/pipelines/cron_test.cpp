// Cron expressions of pipeline schedules: parsing with the field named in errors, and the next
// and last matching minutes, day-of-month and day-of-week combined as cron does.
#include <gtest/gtest.h>

#include "etl/pipelines/cron.hpp"

namespace etl {
namespace {

using namespace std::chrono;

sys_minutes at(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_minutes(sys_days(year{y} / mo / d)) + hours(h) + minutes(mi);
}

TEST(cron, next_and_last_runs) {
  auto daily = parse_cron("30 2 * * *");
  ASSERT_TRUE(daily) << daily.error();
  EXPECT_EQ(daily->next_after(at(2026, 12, 7, 10, 0)), at(2026, 12, 8, 2, 30));
  EXPECT_EQ(daily->next_after(at(2026, 12, 7, 2, 29)), at(2026, 12, 7, 2, 30));
  EXPECT_EQ(daily->next_after(at(2026, 12, 7, 2, 30)), at(2026, 12, 8, 2, 30));  // strictly after
  EXPECT_EQ(daily->last_at_or_before(at(2026, 12, 7, 2, 30)), at(2026, 12, 7, 2, 30));
  EXPECT_EQ(daily->last_at_or_before(at(2026, 12, 7, 2, 29)), at(2026, 12, 6, 2, 30));

  auto steps = parse_cron("*/15 9-17 * * 1-5");  // every quarter hour, office hours, weekdays
  ASSERT_TRUE(steps);
  // 2026-12-05 is a Saturday: the next run is Monday 09:00.
  EXPECT_EQ(steps->next_after(at(2026, 12, 5, 12, 0)), at(2026, 12, 7, 9, 0));
  EXPECT_EQ(steps->next_after(at(2026, 12, 7, 9, 0)), at(2026, 12, 7, 9, 15));
  EXPECT_TRUE(steps->matches(at(2026, 12, 7, 17, 45)));
  EXPECT_FALSE(steps->matches(at(2026, 12, 7, 18, 0)));

  // Both day fields restricted: either matches (the 1st, or any Sunday; 7 is Sunday too).
  auto either = parse_cron("0 0 1 * 7");
  ASSERT_TRUE(either);
  EXPECT_EQ(either->next_after(at(2026, 12, 1, 0, 0)), at(2026, 12, 6, 0, 0));
  EXPECT_EQ(either->next_after(at(2026, 12, 27, 0, 0)), at(2027, 1, 1, 0, 0));

  auto leap = parse_cron("0 12 29 2 *");
  ASSERT_TRUE(leap);
  EXPECT_EQ(leap->next_after(at(2026, 12, 7, 0, 0)), at(2028, 2, 29, 12, 0));
}

TEST(cron, errors_name_the_field) {
  EXPECT_EQ(parse_cron("* * * *").error(),
            "needs five fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(parse_cron("0 24 * * *").error(), "hour: '24' is outside 0..23");
  EXPECT_EQ(parse_cron("*/0 * * * *").error(),
            "minute: '*/0' has a step that is not a positive number");
  EXPECT_EQ(parse_cron("0 0 x * *").error(), "day of month: 'x' is not a number, a range or *");
  EXPECT_EQ(parse_cron("0 0 31 2 *").error(), "never matches a day that exists");
}

}  // namespace
}  // namespace etl
