// ETL_CONCURRENCY against the real pipeline: one limit per worker process, shared by all of its
// jobs. animals-sim measures the listing and detail GETs it holds at once.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;

TEST(worker_concurrency, several_jobs_at_once_share_one_limit_per_process) {
  // 80 pages: 8 batch jobs, 4 at a time in one worker process, each GET 20 ms at the source.
  // Hedging is off: a hedged copy is part of its request, not a request of its own, and this
  // test counts what the source sees.
  auto stack = make_service_stack(
      {"--verify", "--seed", "31", "--pages", "80", "--chaos-percent", "0", "--get-delay-ms", "20"},
      {"ETL_WORKER_PROCESSES=1", "ETL_JOBS=4", "ETL_CONCURRENCY=4", "ETL_HEDGE=false"});
  const auto id = stack.trigger(false);
  const auto t = stack.wait_finished(id, 180s);
  ASSERT_EQ(t.at("status").as_string(), "succeeded") << json::serialize(t);
  const auto report = stack.report();
  expect_exactly_once(report, 800);
  const auto most = num(report, "source_gets_in_flight_max");
  std::printf("most GETs in flight at the source: %lld (ETL_CONCURRENCY=4, ETL_JOBS=4)\n",
              static_cast<long long>(most));
  EXPECT_LE(most, 4);
  EXPECT_GE(most, 2) << "the GETs should have overlapped";
}

}  // namespace
}  // namespace etl::test
