// The offset and next_link paginators: where {offset} and {limit} go in a GET's query and a
// POST's body, which specs chain their pages, and the loader's refusals of each.
#include <gtest/gtest.h>

#include <string>

#include <boost/json.hpp>

#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/spec_loader.hpp"

namespace etl {
namespace {

namespace js = boost::json;

const std::string by_offset = R"(name: by-offset
source:
  kind: rest
  base_url: {env: SMALL_URL}
  path: /items
  query: {skip: "{offset}", take: "{limit}"}
  records: data
  key: id
  paginator: {kind: offset, page_size: 25, total_records: meta.total}
transform:
  fields:
    id: {type: int}
sinks:
  - {kind: files, format: jsonl, folder: small}
)";

const std::string by_link = R"(name: by-link
source:
  kind: rest
  base_url: {env: SMALL_URL}
  path: /items
  records: data
  key: id
  paginator: {kind: next_link, next: links.next, pages_per_batch: 4}
transform:
  fields:
    id: {type: int}
sinks:
  - {kind: files, format: jsonl, folder: small}
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

spec_error refused(const std::string& text) {
  auto r = parse_pipeline_spec(text, "specs/small.yaml");
  EXPECT_FALSE(r) << "accepted:\n" << text;
  return r ? spec_error{} : r.error();
}

TEST(paginators, an_offset_counts_from_zero_by_the_page_size) {
  auto s = parse_pipeline_spec(by_offset, "specs/small.yaml");
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->source.paginator.kind, paginator_kind::offset);
  EXPECT_EQ(s->source.paginator.total_records, "meta.total");
  // With the total known, every page is planned: no chain.
  EXPECT_FALSE(s->source.paginator.chained());
  const js::object params;
  request_values v{1, params, {}, {}};
  EXPECT_EQ(page_target(s->source, "/api", v), "/api/items?skip=0&take=25");
  v.page = 3;
  EXPECT_EQ(page_target(s->source, "", v), "/items?skip=50&take=25");
}

TEST(paginators, an_offset_in_a_post_body_is_a_number) {
  auto text = replaced(by_offset, "  query: {skip: \"{offset}\", take: \"{limit}\"}\n",
                       "  method: POST\n  body: {options: {offset: \"{offset}\", limit: "
                       "\"{limit}\", note: \"from {offset}\"}}\n");
  text = replaced(text, ", total_records: meta.total", "");
  auto s = parse_pipeline_spec(text, "specs/small.yaml");
  ASSERT_TRUE(s) << s.error().describe();
  // Without a total the pages chain until a short one.
  EXPECT_TRUE(s->source.paginator.chained());
  const js::object params;
  const request_values v{4, params, {}, {}};
  const auto body = js::parse(page_body(s->source, v));
  EXPECT_EQ(body.at("options").at("offset"), 75);
  EXPECT_EQ(body.at("options").at("limit"), 25);
  EXPECT_EQ(body.at("options").at("note"), "from 75");
}

TEST(paginators, an_offset_paginator_whose_request_sends_no_offset_is_refused) {
  const auto e = refused(replaced(by_offset, "skip: \"{offset}\", ", ""));
  EXPECT_EQ(e.field, "source.paginator.kind");
  EXPECT_NE(e.message.find("needs {offset} in the request's path, query or body"),
            std::string::npos)
      << e.describe();
  // {offset} means nothing to another paginator.
  const auto other = refused(
      replaced(by_link, "  path: /items\n", "  path: /items\n  query: {o: \"{offset}\"}\n"));
  EXPECT_NE(other.message.find("{offset}"), std::string::npos) << other.describe();
  // pages_per_batch is for chains only.
  const auto planned = refused(replaced(by_offset, "total_records: meta.total",
                                        "total_records: meta.total, pages_per_batch: 2"));
  EXPECT_EQ(planned.field, "source.paginator.pages_per_batch");
}

TEST(paginators, a_next_link_chains_its_pages_and_is_followed_with_get_only) {
  auto s = parse_pipeline_spec(by_link, "specs/small.yaml");
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->source.paginator.kind, paginator_kind::next_link);
  EXPECT_EQ(s->source.paginator.next, (std::vector<std::string>{"links", "next"}));
  EXPECT_EQ(s->source.paginator.pages_per_batch, 4);
  EXPECT_TRUE(s->source.paginator.chained());
  const auto post =
      refused(replaced(by_link, "  path: /items\n", "  method: POST\n  path: /items\n"));
  EXPECT_EQ(post.field, "source.paginator.kind");
  EXPECT_NE(post.message.find("followed with GET"), std::string::npos) << post.describe();
  const auto no_next = refused(replaced(by_link, "next: links.next, ", ""));
  EXPECT_EQ(no_next.field, "source.paginator");
  EXPECT_NE(no_next.message.find("next"), std::string::npos) << no_next.describe();
}

TEST(paginators, a_chain_stops_at_has_more_false_and_at_max_pages) {
  auto s = parse_pipeline_spec(replaced(by_link, "pages_per_batch: 4}",
                                        "pages_per_batch: 4, has_more: meta.more, max_pages: 9}"),
                               "specs/small.yaml");
  ASSERT_TRUE(s) << s.error().describe();
  const auto& pager = s->source.paginator;
  EXPECT_EQ(pager.has_more, (std::vector<std::string>{"meta", "more"}));
  EXPECT_EQ(pager.max_pages, 9);
  const js::object params;
  const request_values v{1, params, {}, {}};
  rest_page page;
  // Where the chain goes after `page` as the task's read-th page ("" ends it).
  const auto next = [&](std::int64_t read) {
    auto r = chain_next(pager, v, page, read);
    return r ? *r : "error: " + r.error();
  };
  page.next_link = "/items?after=10";
  EXPECT_EQ(next(1), "/items?after=10");
  page.has_more = true;
  EXPECT_EQ(next(8), "/items?after=10");
  // The ninth page is the last the task reads, whatever the upstream says.
  EXPECT_EQ(next(9), "");
  page.has_more = false;
  EXPECT_EQ(next(2), "");
  // Not a stop rule of a planned paginator.
  const auto planned = refused(
      replaced(by_offset, "total_records: meta.total", "total_records: meta.total, max_pages: 2"));
  EXPECT_EQ(planned.field, "source.paginator.max_pages");
}

TEST(paginators, a_chained_source_is_not_cut_into_day_windows) {
  const auto text = replaced(by_link, "source:\n",
                             "parameters:\n  from: {type: date, default: yesterday}\n"
                             "  to: {type: date, default: today}\n"
                             "windows: {start: from, end: to}\nsource:\n");
  const auto e = refused(text);
  EXPECT_EQ(e.field, "windows");
  EXPECT_NE(e.message.find("one chain"), std::string::npos) << e.describe();
}

}  // namespace
}  // namespace etl
