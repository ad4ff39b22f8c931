#include "etl/queue/redis_connection.hpp"

#include <gtest/gtest.h>

#include "etl/core/error.hpp"

namespace etl {
namespace {

TEST(parse_resp, reads_scalars) {
  auto s = parse_resp("+OK\r\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, redis_reply::kind::status);
  EXPECT_EQ(s->str, "OK");

  auto i = parse_resp(":42\r\n");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->type, redis_reply::kind::integer);
  EXPECT_EQ(i->integer, 42);

  auto b = parse_resp("$5\r\na\r\nbc\r\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->type, redis_reply::kind::string);
  EXPECT_EQ(b->str, "a\r\nbc");

  auto n = parse_resp("$-1\r\n");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->is_nil());
}

TEST(parse_resp, reads_nested_arrays) {
  auto r = parse_resp("*2\r\n$3\r\nfoo\r\n*2\r\n:1\r\n*-1\r\n");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->is_array());
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[0].str, "foo");
  ASSERT_EQ(r->elements[1].elements.size(), 2u);
  EXPECT_EQ(r->elements[1].elements[0].integer, 1);
  EXPECT_TRUE(r->elements[1].elements[1].is_nil());
}

TEST(parse_resp, error_answers_are_values_with_their_code) {
  auto r = parse_resp("-NOGROUP No such key 'etl:jobs' or consumer group 'g'\r\n");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_error());
  EXPECT_TRUE(r->error_is("NOGROUP"));
  EXPECT_FALSE(r->error_is("NOGRO"));
  EXPECT_FALSE(r->error_is("BUSYGROUP"));
  auto ok = parse_resp("+NOGROUP\r\n");
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->error_is("NOGROUP"));  // a status, not an error
}

TEST(parse_resp, rejects_bad_incomplete_and_trailing_bytes) {
  EXPECT_EQ(parse_resp("hello\r\n").error(), redis_errc::protocol_error);
  EXPECT_EQ(parse_resp("$5\r\nab").error(), redis_errc::protocol_error);
  EXPECT_EQ(parse_resp("*2\r\n:1\r\n").error(), redis_errc::protocol_error);
  EXPECT_EQ(parse_resp("").error(), redis_errc::protocol_error);
  EXPECT_EQ(parse_resp("+OK\r\n+OK\r\n").error(), redis_errc::protocol_error);
  EXPECT_EQ(parse_resp("+OK\r\n:1").error(), redis_errc::protocol_error);
}

TEST(parse_redis_url, reads_host_port_password_and_db) {
  auto o = parse_redis_url("redis://:s3cret@redis.local:6380/2");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->host, "redis.local");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->user, "");
  EXPECT_EQ(o->password, "s3cret");
  EXPECT_EQ(o->db, 2);

  auto d = parse_redis_url("redis://127.0.0.1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
  EXPECT_EQ(d->password, "");

  auto u = parse_redis_url("redis://etl:pw@127.0.0.1:6379/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "etl");
  EXPECT_EQ(u->password, "pw");
  EXPECT_EQ(u->db, 0);
}

TEST(parse_redis_url, rejects_with_a_reason) {
  std::string why;
  EXPECT_EQ(parse_redis_url("http://127.0.0.1:6379/0", &why).error(), errc::invalid_url);
  EXPECT_NE(why.find("redis"), std::string::npos) << why;

  why.clear();
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1:6379/abc", &why).error(), errc::invalid_url);
  EXPECT_NE(why.find("abc"), std::string::npos) << why;

  EXPECT_EQ(parse_redis_url("redis://127.0.0.1/-1").error(), errc::invalid_url);
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1/0?x=1").error(), errc::invalid_url);
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1/1/2").error(), errc::invalid_url);
  EXPECT_EQ(parse_redis_url("127.0.0.1:6379").error(), errc::invalid_url);
}

TEST(redis_errc, has_its_own_category_and_messages) {
  error_code ec = redis_errc::connection_lost;
  EXPECT_STREQ(ec.category().name(), "redis");
  EXPECT_EQ(ec.message(), "connection to Redis lost");
  EXPECT_NE(error_code(redis_errc::timeout), error_code(errc::timeout));
}

}  // namespace
}  // namespace etl
