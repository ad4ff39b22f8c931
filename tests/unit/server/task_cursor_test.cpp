// The task list's opaque cursor: what encode makes, decode reads back; anything else is refused.
#include <gtest/gtest.h>

#include "etl/server/task_list.hpp"

namespace etl {
namespace {

task_cursor cursor(std::int64_t micros, std::string id) {
  return {db_time(std::chrono::microseconds(micros)), std::move(id)};
}

TEST(task_cursor, round_trips_time_and_id) {
  for (const auto& c : {cursor(0, "00000000-0000-4000-8000-000000000000"),
                        cursor(1'795'000'000'123'456, "0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e"),
                        cursor(7, "ABCDEF01-2345-4789-8abc-def012345678")}) {
    const auto text = encode_task_cursor(c);
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << text;  // safe in a query string as it is
    const auto back = decode_task_cursor(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->created_at, c.created_at);
    EXPECT_EQ(back->id, c.id);
  }
}

TEST(task_cursor, is_base64url_of_micros_colon_id) {
  EXPECT_EQ(encode_task_cursor(cursor(123, "00000000-0000-4000-8000-000000000000")),
            "MTIzOjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMA");
}

TEST(task_cursor, refuses_what_encode_never_makes) {
  const auto good = encode_task_cursor(cursor(123, "00000000-0000-4000-8000-000000000000"));
  for (const std::string& bad : {
           std::string{},
           std::string("A"),                            // a length no encoder produces
           good + "=",                                  // padding
           good.substr(0, 10) + "+" + good.substr(11),  // base64, not base64url
           std::string("bm90IGEgY3Vyc29y"),             // "not a cursor": no ':'
           std::string("MTIzOm5vdC1hLXV1aWQ"),          // "123:not-a-uuid"
           std::string("LTE6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw"),  // "-1:<uuid>"
           std::string("OjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMA"),    // ":<uuid>"
           std::string("MXg6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw"),  // "1x:<uuid>"
       }) {
    EXPECT_FALSE(decode_task_cursor(bad)) << bad;
  }
}

}  // namespace
}  // namespace etl
