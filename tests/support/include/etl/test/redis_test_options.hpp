// Client options for integration tests that talk to Redis themselves: the fixture's URL with short
// timeouts and backoff, so that a test of an outage fails or recovers in well under a second.
#pragma once

#include <gtest/gtest.h>

#include "etl/queue/redis_connection.hpp"
#include "etl/test/redis_server.hpp"

namespace etl {

inline redis_options redis_test_options(const test::redis_server& server) {
  using namespace std::chrono_literals;
  auto opts = parse_redis_url(server.url());
  EXPECT_TRUE(opts) << server.url();
  opts->connect_timeout = 500ms;
  opts->command_timeout = 1000ms;
  opts->min_backoff = 50ms;
  opts->max_backoff = 200ms;
  return *opts;
}

}  // namespace etl
