// The spec keys of a source's access to its upstream: `auth` (a secret from an environment
// variable, in a header or the query) and `rate_limit` (the pool-wide quota). Each mistake is
// refused with its file, line and field, like every other key of the loader.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/spec_loader.hpp"

namespace etl {
namespace {

// A valid spec with both keys, to break one line at a time.
const std::string good = R"(name: orgs
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:3126"}
  path: /api/v4/autocompletes
  query: {query: a}
  records: entities
  key: id
  paginator: {kind: single}
  auth: {env: CB_API_KEY, header: X-cb-user-key}
  rate_limit: {requests: 200, per_seconds: 60}
transform:
  fields:
    id: {type: string, from: identifier.uuid}
sinks:
  - {kind: files, format: jsonl, folder: orgs}
)";

std::string replaced(const std::string& from, const std::string& to) {
  auto s = good;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

spec_error refused(const std::string& text) {
  auto r = parse_pipeline_spec(text, "specs/orgs.yaml");
  EXPECT_FALSE(r) << "accepted:\n" << text;
  return r ? spec_error{} : r.error();
}

TEST(source_access_spec, auth_and_rate_limit_are_read) {
  auto r = parse_pipeline_spec(good, "specs/orgs.yaml");
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_TRUE(r->source.auth);
  EXPECT_EQ(r->source.auth->env, "CB_API_KEY");
  EXPECT_EQ(r->source.auth->header, "X-cb-user-key");
  EXPECT_EQ(r->source.auth->query, "");
  ASSERT_TRUE(r->source.rate_limit);
  EXPECT_EQ(r->source.rate_limit->requests, 200);
  EXPECT_EQ(r->source.rate_limit->per_seconds, 60);

  r = parse_pipeline_spec(replaced("header: X-cb-user-key", "query: user_key"), "specs/orgs.yaml");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->source.auth->header, "");
  EXPECT_EQ(r->source.auth->query, "user_key");

  // Both are optional.
  auto plain = good;
  plain.erase(plain.find("  auth:"), plain.find("transform:") - plain.find("  auth:"));
  r = parse_pipeline_spec(plain, "specs/orgs.yaml");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_FALSE(r->source.auth);
  EXPECT_FALSE(r->source.rate_limit);
}

TEST(source_access_spec, auth_needs_exactly_one_of_header_and_query) {
  auto e = refused(replaced("header: X-cb-user-key", "header: X-cb-user-key, query: user_key"));
  EXPECT_EQ(e.field, "source.auth");
  EXPECT_EQ(e.line, 10);
  EXPECT_NE(e.message.find("exactly one of 'header' and 'query'"), std::string::npos)
      << e.describe();
  e = refused(replaced(", header: X-cb-user-key", ""));
  EXPECT_EQ(e.field, "source.auth");
  EXPECT_EQ(e.describe().rfind("specs/orgs.yaml:10:", 0), 0u) << e.describe();
}

TEST(source_access_spec, auth_refuses_unknown_keys_bad_names_and_a_literal_secret) {
  // A key written into the spec is exactly what `auth` exists to avoid: `value` is unknown.
  auto e = refused(replaced("env: CB_API_KEY,", "env: CB_API_KEY, value: secret,"));
  EXPECT_EQ(e.field, "source.auth.value");
  EXPECT_NE(e.message.find("unknown key (known here: env, header, query)"), std::string::npos)
      << e.describe();
  e = refused(replaced("env: CB_API_KEY", "env: cb-api-key"));
  EXPECT_EQ(e.field, "source.auth.env");
  EXPECT_NE(e.message.find("not an environment variable name"), std::string::npos) << e.describe();
  e = refused(replaced("env: CB_API_KEY, ", ""));
  EXPECT_EQ(e.field, "source.auth");
  EXPECT_NE(e.message.find("missing 'env'"), std::string::npos) << e.describe();
  e = refused(replaced("header: X-cb-user-key", "header: \"X cb: key\""));
  EXPECT_EQ(e.field, "source.auth.header");
  e = refused(replaced("header: X-cb-user-key", "query: \"user&key\""));
  EXPECT_EQ(e.field, "source.auth.query");
  // The secret's parameter may not also be one of the spec's own query parameters.
  e = refused(replaced("header: X-cb-user-key", "query: query"));
  EXPECT_EQ(e.field, "source.auth.query");
  EXPECT_NE(e.message.find("also a key of source.query"), std::string::npos) << e.describe();
}

TEST(source_access_spec, rate_limit_is_checked) {
  auto e = refused(replaced("requests: 200", "requests: 0"));
  EXPECT_EQ(e.field, "source.rate_limit.requests");
  EXPECT_EQ(e.line, 11);
  EXPECT_NE(e.message.find("must be 1..1000000"), std::string::npos) << e.describe();
  e = refused(replaced("per_seconds: 60", "per_seconds: minute"));
  EXPECT_EQ(e.field, "source.rate_limit.per_seconds");
  EXPECT_NE(e.message.find("must be an integer"), std::string::npos) << e.describe();
  e = refused(replaced("per_seconds: 60", "per_seconds: 0"));
  EXPECT_EQ(e.field, "source.rate_limit.per_seconds");
  e = refused(replaced("per_seconds: 60", "per_second: 60"));
  EXPECT_EQ(e.field, "source.rate_limit.per_second");
  e = refused(replaced(", per_seconds: 60", ""));
  EXPECT_EQ(e.field, "source.rate_limit");
  EXPECT_NE(e.message.find("missing 'per_seconds'"), std::string::npos) << e.describe();
}

TEST(source_access_spec, an_http_batch_pipeline_takes_neither) {
  // Its source is read by the worker's own animals client, which would silently ignore them.
  auto e = refused(replaced("  - {kind: files, format: jsonl, folder: orgs}",
                            "  - {kind: http_batch, url: {default: \"http://h/out\"}, "
                            "max_records: 10}"));
  EXPECT_EQ(e.field, "source.auth");
  EXPECT_NE(e.message.find("not supported with an http_batch sink"), std::string::npos)
      << e.describe();
}

TEST(source_credentials, are_read_from_the_variable_and_a_missing_one_is_named_not_shown) {
  const source_auth auth{"ETL_TEST_ACCESS_KEY", "X-cb-user-key", ""};
  ::unsetenv("ETL_TEST_ACCESS_KEY");
  auto c = read_credentials(auth);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("ETL_TEST_ACCESS_KEY"), std::string::npos) << c.error();
  ::setenv("ETL_TEST_ACCESS_KEY", "", 1);
  EXPECT_FALSE(read_credentials(auth)) << "an empty variable is no key";
  ::setenv("ETL_TEST_ACCESS_KEY", "s3cret", 1);
  c = read_credentials(auth);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->secret, "s3cret");
  EXPECT_EQ(c->header, "X-cb-user-key");
  EXPECT_EQ(c->query, "");
  ::unsetenv("ETL_TEST_ACCESS_KEY");
}

TEST(source_credentials, redact_secret_hides_every_copy_as_written_and_as_encoded) {
  EXPECT_EQ(redact_secret("GET /x?user_key=a b/c failed: a b/c", "a b/c"),
            "GET /x?user_key=*** failed: ***");
  EXPECT_EQ(redact_secret("/x?user_key=a%20b%2Fc&n=1", "a b/c"), "/x?user_key=***&n=1");
  EXPECT_EQ(redact_secret("key k3y and k3yk3y", "k3y"), "key *** and ******");
  EXPECT_EQ(redact_secret("nothing here", "k3y"), "nothing here");
  EXPECT_EQ(redact_secret("an empty secret hides nothing", ""), "an empty secret hides nothing");
}

}  // namespace
}  // namespace etl
