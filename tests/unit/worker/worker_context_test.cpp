// worker_context's HTTP clients of the generic pipelines: one per origin, except that a source's
// auth header and its rate limit make clients of their own (a key never travels with another
// pipeline's requests, and a limit never slows another upstream); a missing key variable is
// recorded as the pipeline's access error, naming the variable. Nothing here connects anywhere.
#include "etl/worker/worker_context.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "etl/pipelines/spec_loader.hpp"

namespace etl {
namespace {

pipeline_spec spec(const std::string& name, const std::string& origin, const std::string& extra) {
  const auto text = "name: " + name + "\nsource:\n  kind: rest\n  base_url: {default: \"" + origin +
                    "/api\"}\n  path: /items\n  key: id\n  paginator: {kind: single}\n" + extra +
                    "transform:\n  fields:\n    id: {type: int}\n" +
                    "sinks:\n  - {kind: files, format: jsonl, folder: " + name + "}\n";
  auto s = parse_pipeline_spec(text, name + ".yaml");
  EXPECT_TRUE(s) << s.error().describe();
  return s ? *s : pipeline_spec{};
}

TEST(worker_context, auth_and_rate_limits_key_the_upstream_clients) {
  ::setenv("WCT_KEY", "wct-secret", 1);
  ::unsetenv("WCT_MISSING");
  const std::string x = "http://127.0.0.1:3901", y = "http://127.0.0.1:3902";
  const std::string header = "  auth: {env: WCT_KEY, header: X-Key}\n";
  const std::string limit = "  rate_limit: {requests: 10, per_seconds: 1}\n";
  net::io_context io;
  worker_context ctx(
      io.get_executor(), settings{},
      {spec("plain", x, ""), spec("keyed", x, header), spec("keyed-too", x, header),
       spec("missing", x, "  auth: {env: WCT_MISSING, header: X-Key}\n"), spec("limited", y, limit),
       spec("query", x, "  auth: {env: WCT_KEY, query: k}\n" + limit)});
  const auto up = [&](const char* name) { return ctx.upstream_of(*ctx.pipeline(name)); };

  EXPECT_EQ(up("plain").base_path, "/api");
  EXPECT_TRUE(up("plain").client->options().headers.empty());
  EXPECT_FALSE(up("plain").client->options().admit);
  EXPECT_EQ(up("plain").credentials, nullptr);

  // The header goes with the keyed pipelines' client only; one secret, one client.
  EXPECT_NE(up("keyed").client, up("plain").client);
  EXPECT_EQ(up("keyed").client, up("keyed-too").client);
  ASSERT_EQ(up("keyed").client->options().headers.size(), 1u);
  EXPECT_EQ(up("keyed").client->options().headers[0].first, "X-Key");
  ASSERT_NE(up("keyed").credentials, nullptr);
  EXPECT_EQ(up("keyed").credentials->secret, "wct-secret");
  EXPECT_TRUE(up("keyed").access_error.empty());

  // A missing variable: named in the access error; no value, no header.
  EXPECT_NE(up("missing").access_error.find("WCT_MISSING"), std::string::npos)
      << up("missing").access_error;
  EXPECT_EQ(up("missing").credentials, nullptr);

  // Rate-limited sources admit every request; another origin or auth is another client.
  EXPECT_TRUE(up("limited").client->options().admit);
  EXPECT_NE(up("limited").client, up("plain").client);
  EXPECT_TRUE(up("query").client->options().admit);
  EXPECT_NE(up("query").client, up("keyed").client);
  EXPECT_TRUE(up("query").client->options().headers.empty());
  EXPECT_EQ(up("query").client->options().redact_query, std::vector<std::string>{"k"});
  EXPECT_EQ(up("query").credentials->query, "k");
  ::unsetenv("WCT_KEY");
}

TEST(worker_context, one_origin_with_two_rate_limits_is_a_start_up_error) {
  net::io_context io;
  const std::string x = "http://127.0.0.1:3901";
  EXPECT_THROW(worker_context(io.get_executor(), settings{},
                              {spec("a", x, "  rate_limit: {requests: 10, per_seconds: 1}\n"),
                               spec("b", x, "  rate_limit: {requests: 20, per_seconds: 1}\n")}),
               std::invalid_argument);
}

}  // namespace
}  // namespace etl
