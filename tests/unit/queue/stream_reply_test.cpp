#include "etl/queue/stream_reply.hpp"

#include <gtest/gtest.h>

namespace etl {
namespace {

redis_reply resp(std::string_view bytes) {
  auto r = parse_resp(bytes);
  EXPECT_TRUE(r) << bytes;
  return r ? *r : redis_reply{};
}

// Two entries as Redis writes them: [[id, [k, v, ...]], ...].
constexpr std::string_view two_entries =
    "*2\r\n"
    "*2\r\n$3\r\n1-0\r\n*4\r\n$4\r\ntype\r\n$5\r\nbatch\r\n$5\r\nbatch\r\n$1\r\n3\r\n"
    "*2\r\n$3\r\n2-0\r\n*2\r\n$4\r\ntype\r\n$4\r\nplan\r\n";

TEST(parse_stream_entries, reads_ids_and_fields) {
  auto e = parse_stream_entries(resp(two_entries));
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].id, "1-0");
  EXPECT_EQ((*e)[0].fields.at("type"), "batch");
  EXPECT_EQ((*e)[0].fields.at("batch"), "3");
  EXPECT_EQ((*e)[1].id, "2-0");
  EXPECT_EQ((*e)[1].fields.size(), 1u);
}

TEST(parse_stream_entries, repeated_field_last_wins) {
  auto e = parse_stream_entries(
      resp("*1\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n"));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)[0].fields.at("a"), "2");
}

TEST(parse_stream_entries, deleted_entries_go_to_deleted_ids) {
  auto reply = resp("*1\r\n*2\r\n$3\r\n7-1\r\n*-1\r\n");
  std::vector<std::string> deleted;
  auto e = parse_stream_entries(reply, &deleted);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
  EXPECT_EQ(deleted, std::vector<std::string>{"7-1"});
  EXPECT_EQ(parse_stream_entries(reply).error(), redis_errc::unexpected_reply);
}

TEST(parse_stream_entries, rejects_wrong_shapes) {
  EXPECT_EQ(parse_stream_entries(resp(":1\r\n")).error(), redis_errc::unexpected_reply);
  EXPECT_EQ(parse_stream_entries(resp("-ERR boom\r\n")).error(), redis_errc::server_error);
  // Odd number of field strings.
  EXPECT_EQ(parse_stream_entries(resp("*1\r\n*2\r\n$3\r\n1-0\r\n*1\r\n$1\r\na\r\n")).error(),
            redis_errc::unexpected_reply);
  // Entry without its fields.
  EXPECT_EQ(parse_stream_entries(resp("*1\r\n*1\r\n$3\r\n1-0\r\n")).error(),
            redis_errc::unexpected_reply);
  // A field value that is an integer.
  EXPECT_EQ(parse_stream_entries(resp("*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n:1\r\n")).error(),
            redis_errc::unexpected_reply);
}

TEST(parse_read_reply, nil_means_block_timed_out) {
  auto e = parse_read_reply(resp("*-1\r\n"), "etl:jobs");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
}

TEST(parse_read_reply, reads_the_named_stream_only) {
  std::string reply = "*1\r\n*2\r\n$8\r\netl:jobs\r\n" + std::string(two_entries);
  auto e = parse_read_reply(resp(reply), "etl:jobs");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->size(), 2u);
  EXPECT_EQ(parse_read_reply(resp(reply), "other").error(), redis_errc::unexpected_reply);
  EXPECT_EQ(parse_read_reply(resp("-NOGROUP x\r\n"), "etl:jobs").error(), redis_errc::server_error);
}

TEST(parse_autoclaim_reply, reads_redis7_three_elements) {
  std::string reply = "*3\r\n$3\r\n0-0\r\n" + std::string(two_entries) + "*1\r\n$3\r\n5-0\r\n";
  auto a = parse_autoclaim_reply(resp(reply));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->next_cursor, "0-0");
  EXPECT_EQ(a->entries.size(), 2u);
  EXPECT_EQ(a->deleted_ids, std::vector<std::string>{"5-0"});
}

TEST(parse_autoclaim_reply, reads_redis62_two_elements) {
  auto a = parse_autoclaim_reply(resp("*2\r\n$4\r\n12-3\r\n*0\r\n"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->next_cursor, "12-3");
  EXPECT_TRUE(a->entries.empty());
  EXPECT_TRUE(a->deleted_ids.empty());
}

TEST(parse_autoclaim_reply, rejects_wrong_shapes) {
  EXPECT_EQ(parse_autoclaim_reply(resp("*1\r\n$3\r\n0-0\r\n")).error(),
            redis_errc::unexpected_reply);
  EXPECT_EQ(parse_autoclaim_reply(resp("*3\r\n$3\r\n0-0\r\n*0\r\n:1\r\n")).error(),
            redis_errc::unexpected_reply);
  EXPECT_EQ(parse_autoclaim_reply(resp("-NOGROUP x\r\n")).error(), redis_errc::server_error);
}

TEST(parse_pending_reply, reads_rows) {
  auto p =
      parse_pending_reply(resp("*1\r\n*4\r\n$3\r\n1-0\r\n$10\r\nhost:1:1:1\r\n:1500\r\n:3\r\n"));
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].id, "1-0");
  EXPECT_EQ((*p)[0].consumer, "host:1:1:1");
  EXPECT_EQ((*p)[0].idle_ms, 1500);
  EXPECT_EQ((*p)[0].deliveries, 3);
  auto none = parse_pending_reply(resp("*0\r\n"));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(parse_pending_reply, rejects_wrong_shapes) {
  EXPECT_EQ(parse_pending_reply(resp("*1\r\n*3\r\n$3\r\n1-0\r\n$1\r\nc\r\n:1\r\n")).error(),
            redis_errc::unexpected_reply);
  EXPECT_EQ(
      parse_pending_reply(resp("*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\nc\r\n$1\r\n1\r\n:1\r\n")).error(),
      redis_errc::unexpected_reply);
}

}  // namespace
}  // namespace etl
