// Registers the one Postgres server of this executable (gtest_main provides main()).
#include "db_test_env.hpp"

namespace {
[[maybe_unused]] const auto* const environment =
    ::testing::AddGlobalTestEnvironment(new etl::test::postgres_environment);
}  // namespace
