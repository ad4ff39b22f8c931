// The kinds crunchbase-orgs is made of: the keyset paginator's key in a POST body (and a GET's
// query), {cursor.start}, a value picked from an array by type, {task.day} and '=' in file
// names, and the loader's errors for each of them.
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/json.hpp>

#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "shipped_spec.hpp"

namespace etl {
namespace {

namespace js = boost::json;

pipeline_spec crunchbase_spec() {
  return shipped_spec("crunchbase-orgs");
}

TEST(keyset_kinds, the_body_carries_the_cursor_and_after_the_first_page_the_key) {
  const auto s = crunchbase_spec();
  ASSERT_EQ(s.source.paginator.kind, paginator_kind::keyset);
  EXPECT_EQ(s.source.paginator.page_size, 1000);
  EXPECT_EQ(s.source.paginator.pages_per_batch, 5);
  ASSERT_TRUE(s.incremental);
  EXPECT_EQ(s.incremental->field, "updated_at");
  const js::object params;
  request_values first{1, params, {}, {}, "2020-06-07T03:40:05Z", std::nullopt};
  const auto body = js::parse(page_body(s.source, first)).as_object();
  EXPECT_FALSE(body.contains("after_id"));
  EXPECT_EQ(body.at("query").at(0).at("values").at(0), "2020-06-07T03:40:05Z");
  EXPECT_EQ(body.at("limit"), 1000);
  auto next = first;
  next.after = "2086ca71-54fa-cdc7-0f9a-907d05d8c6d9";
  EXPECT_EQ(js::parse(page_body(s.source, next)).at("after_id"),
            "2086ca71-54fa-cdc7-0f9a-907d05d8c6d9");
  // The key never goes in the query of a POST.
  EXPECT_EQ(page_target(s.source, "", next), "/api/v4/searches/organizations");
}

TEST(keyset_kinds, a_get_carries_the_key_in_its_query) {
  auto s = crunchbase_spec();
  s.source.method = "GET";
  s.source.body.reset();
  const js::object params;
  request_values v{1, params, {}, {}, {}, std::string("a b")};
  EXPECT_EQ(page_target(s.source, "/api", v), "/api/api/v4/searches/organizations?after_id=a%20b");
}

TEST(keyset_kinds, locations_are_picked_by_type_and_absent_ones_are_null) {
  const auto s = crunchbase_spec();
  const auto entity = js::parse(R"({"uuid":"2086ca71-54fa-cdc7-0f9a-907d05d8c6d9","properties":{
    "name":"Anavara Limited","updated_at":"2020-06-07T03:40:05Z","linkedin":{"value":"https://l/a"},
    "location_identifiers":[
      {"value":"Oxford","location_type":"city"},
      {"value":"United Kingdom","location_type":"country"},
      {"value":"Europe","location_type":"continent"}]}})")
                          .as_object();
  auto typed = type_record(entity, s.fields);
  ASSERT_TRUE(typed) << typed.error().describe();
  const auto value = [&](const std::string& name) {
    const auto at = std::find_if(s.fields.begin(), s.fields.end(),
                                 [&](const field_spec& f) { return f.name == name; });
    return typed->values.at(static_cast<std::size_t>(at - s.fields.begin()));
  };
  EXPECT_EQ(value("city"), "Oxford");
  EXPECT_TRUE(value("region").is_null());
  EXPECT_EQ(value("country"), "United Kingdom");
  EXPECT_EQ(value("linkedin"), "https://l/a");
  EXPECT_TRUE(value("website_url").is_null());
  // No locations at all: every one null. Locations that are not an array: rejected.
  auto bare = entity;
  bare["properties"].as_object().erase("location_identifiers");
  ASSERT_TRUE(type_record(bare, s.fields));
  bare["properties"].as_object()["location_identifiers"] = "Oxford";
  const auto refused = type_record(bare, s.fields);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().describe(), "city: is string, not an array to pick from");
}

TEST(keyset_kinds, the_task_day_and_hive_folders_name_files) {
  const auto s = crunchbase_spec();
  const auto& sink = s.sinks.front();
  EXPECT_EQ(sink.folder, "crunchbase/context=org");
  EXPECT_EQ(batch_file_name(sink, {"t1", "20261207", 2, "2026-12-07"}),
            "_extraction_date=2026-12-07/org-t1-2.parquet");
}

// A small keyset spec to break one line at a time.
const std::string good = R"(name: orgs
parameters:
  since: {type: date}
incremental: {field: updated_at, start_param: since, initial: "0001-01-01"}
source:
  kind: rest
  base_url: {env: ORGS_URL}
  method: POST
  path: /search
  body: {query: {updated: "{cursor.start}"}, limit: 10}
  records: entities
  key: uuid
  paginator: {kind: keyset, after_param: after_id, after_from: uuid, page_size: 10}
transform:
  fields:
    uuid: {type: string}
    updated_at: {type: date_time}
    city: {from: places, pick: {where: {type: city}, value: name}, type: string, nullable: true}
sinks:
  - kind: files
    format: csv
    folder: orgs
)";

std::string with(const std::string& from, const std::string& to) {
  auto s = good;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

std::string refusal(const std::string& text) {
  auto r = parse_pipeline_spec(text, "specs/orgs.yaml");
  EXPECT_FALSE(r) << "accepted:\n" << text;
  return r ? std::string() : r.error().describe();
}

TEST(keyset_kinds, the_loader_names_what_is_wrong) {
  ASSERT_TRUE(parse_pipeline_spec(good, "specs/orgs.yaml"));
  EXPECT_NE(refusal(with("limit: 10}", "limit: 10, after_id: x}"))
                .find("source.paginator.after_param: 'after_id' is set by the request already"),
            std::string::npos);
  EXPECT_NE(refusal(with("page_size: 10}", "page_size: 0}")).find("source.paginator.page_size"),
            std::string::npos);
  EXPECT_NE(refusal(with("field: updated_at,", "field: uuid,"))
                .find("incremental.field: 'uuid' must be a date_time field"),
            std::string::npos);
  EXPECT_NE(refusal(with("since: {type: date}", "since: {type: date, default: today}"))
                .find("incremental.start_param: 'since' must have no default"),
            std::string::npos);
  EXPECT_NE(refusal(with("kind: keyset, after_param: after_id, after_from: uuid, page_size: 10",
                         "kind: single"))
                .find("incremental: needs a source with a keyset paginator"),
            std::string::npos);
  EXPECT_NE(refusal(with("where: {type: city}", "where: {type: city, kind: town}"))
                .find("must hold one key"),
            std::string::npos);
  // {cursor.start} only where there is a cursor.
  EXPECT_NE(
      refusal(with(R"(incremental: {field: updated_at, start_param: since, initial: "0001-01-01"})",
                   ""))
          .find("cursor.start"),
      std::string::npos);
}

}  // namespace
}  // namespace etl
