// The pipeline spec loader: the shipped specs load, and every kind of mistake is refused with
// its file, line and field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "etl/pipelines/spec_loader.hpp"
#include "etl/test/test_paths.hpp"

namespace etl {
namespace {

namespace fs = std::filesystem;

const fs::path specs_dir = fs::path(test::source_dir) / "pipelines" / "specs";

TEST(pipeline_spec, the_animals_spec_loads_with_its_kinds_and_parameters) {
  auto all = load_pipeline_specs({specs_dir});
  ASSERT_TRUE(all) << all.error().describe();
  ASSERT_EQ(all->size(), 5u);
  const auto& a = all->front();
  EXPECT_EQ(a.name, "animals");
  ASSERT_NE(a.param("audit_mode"), nullptr);
  EXPECT_EQ(a.param("audit_mode")->type, param_type::boolean);
  EXPECT_EQ(std::get<bool>(*a.param("audit_mode")->default_value), false);
  EXPECT_EQ(a.source.base_url.env, "ETL_SOURCE_URL");
  EXPECT_EQ(a.source.path, "/animals/v1/animals");
  EXPECT_EQ(a.source.records, "items");
  EXPECT_EQ(a.source.key, "id");
  EXPECT_EQ(a.source.paginator.page_size, 10);
  EXPECT_EQ(a.source.paginator.total_pages, "total_pages");
  ASSERT_TRUE(a.source.detail);
  EXPECT_EQ(a.source.detail->path, "/animals/v1/animals/{record.id}");
  EXPECT_EQ(a.source.detail->bad_record_status, 500u);
  ASSERT_EQ(a.fields.size(), 4u);
  EXPECT_EQ(a.fields[2].name, "friends");
  EXPECT_EQ(a.fields[2].type, field_type::string_list);
  EXPECT_TRUE(a.fields[3].nullable);
  ASSERT_EQ(a.sinks.size(), 1u);
  EXPECT_EQ(a.sinks[0].kind, sink_kind::http_batch);
  EXPECT_EQ(a.sinks[0].url.env, "ETL_HOME_URL");
  EXPECT_EQ(a.sinks[0].max_records, 100);
}

// A valid spec to break one line at a time.
const std::string good = R"(name: small
parameters:
  limit: {type: int, default: 5, min: 1, max: 10}
source:
  kind: rest
  base_url: {env: SMALL_URL}
  path: /items
  query: {page: "{page}", n: "{params.limit}"}
  records: data
  key: id
  paginator: {kind: page_number, total_pages: pages, page_size: 5}
transform:
  fields:
    id: {type: int}
sinks:
  - kind: http_batch
    url: {default: "{source.base_url}/out"}
    max_records: 50
)";

std::string replaced(const std::string& from, const std::string& to) {
  auto s = good;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

spec_error refused(const std::string& text) {
  auto r = parse_pipeline_spec(text, "specs/small.yaml");
  EXPECT_FALSE(r) << "accepted:\n" << text;
  return r ? spec_error{} : r.error();
}

TEST(pipeline_spec, a_good_spec_parses) {
  auto r = parse_pipeline_spec(good, "specs/small.yaml");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->file, "specs/small.yaml");
  EXPECT_EQ(std::get<std::int64_t>(*r->param("limit")->default_value), 5);
  EXPECT_EQ(r->source.query.at(1).second, "{params.limit}");
}

TEST(pipeline_spec, an_unknown_kind_names_its_file_line_and_field) {
  const auto e = refused(replaced("kind: page_number", "kind: link_header"));
  EXPECT_EQ(e.file, "specs/small.yaml");
  EXPECT_EQ(e.line, 11);
  EXPECT_EQ(e.field, "source.paginator.kind");
  EXPECT_NE(e.message.find("unknown value 'link_header' (known: page_number, single, keyset, "
                           "offset, next_link)"),
            std::string::npos)
      << e.describe();
  EXPECT_EQ(e.describe().rfind("specs/small.yaml:11:", 0), 0u) << e.describe();
}

TEST(pipeline_spec, a_missing_field_is_named) {
  const auto e = refused(replaced("  key: id\n", ""));
  EXPECT_EQ(e.field, "source");
  EXPECT_NE(e.message.find("missing 'key'"), std::string::npos) << e.describe();
}

TEST(pipeline_spec, an_unknown_key_is_refused_where_it_stands) {
  const auto e = refused(replaced("  records: data", "  record: data"));
  EXPECT_EQ(e.line, 9);
  EXPECT_EQ(e.field, "source.record");
  EXPECT_NE(e.message.find("unknown key"), std::string::npos) << e.describe();
}

TEST(pipeline_spec, a_bad_placeholder_is_refused) {
  auto e = refused(replaced("{params.limit}", "{params.size}"));
  EXPECT_EQ(e.field, "source.query.n");
  EXPECT_NE(e.message.find("unknown placeholder {params.size}"), std::string::npos) << e.describe();
  e = refused(replaced("/items", "/items/{page"));
  EXPECT_NE(e.message.find("'{' without '}'"), std::string::npos) << e.describe();
  e = refused(replaced("{source.base_url}/out", "{cursor.value}/out"));
  EXPECT_EQ(e.field, "sinks[0].url.default");
}

TEST(pipeline_spec, names_must_be_snake_case_and_wrong_types_are_refused) {
  auto e = refused(replaced("    id: {type: int}", "    Id: {type: int}"));
  EXPECT_EQ(e.field, "transform.fields.Id");
  e = refused(replaced("default: 5,", "default: five,"));
  EXPECT_NE(e.message.find("must be an integer, not 'five'"), std::string::npos) << e.describe();
  e = refused(replaced("default: 5,", "default: 50,"));
  EXPECT_NE(e.message.find("outside min..max"), std::string::npos) << e.describe();
  e = refused(replaced("name: small", "name: Small Things"));
  EXPECT_EQ(e.field, "name");
  e = refused(replaced("{env: SMALL_URL}", "{env: small-url}"));
  EXPECT_EQ(e.field, "source.base_url.env");
}

TEST(pipeline_spec, the_key_must_be_a_field_and_a_sink_is_required) {
  auto e = refused(replaced("  key: id", "  key: uuid"));
  EXPECT_EQ(e.field, "source.key");
  e = refused(good.substr(0, good.find("sinks:")) + "sinks: []\n");
  EXPECT_EQ(e.field, "sinks");
}

TEST(pipeline_spec, broken_yaml_and_json_specs) {
  auto e = refused("name: [unclosed\n");
  EXPECT_GE(e.line, 1);
  EXPECT_NE(e.message.find("not valid YAML"), std::string::npos) << e.describe();
  // JSON is YAML too: a JSON spec is read the same way.
  auto r = parse_pipeline_spec(
      R"({"name": "j", "source": {"kind": "rest", "base_url": {"default": "http://x"},
          "path": "/a", "key": "id",
          "paginator": {"kind": "page_number", "total_pages": "n", "page_size": 1}},
          "transform": {"fields": {"id": {"type": "int"}}},
          "sinks": [{"kind": "http_batch", "url": {"default": "http://y"}, "max_records": 1}]})",
      "specs/j.json");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->name, "j");
}

TEST(pipeline_spec, the_binaries_carry_the_shipped_specs_and_add_the_users) {
  auto shipped = load_pipelines({});
  ASSERT_TRUE(shipped) << shipped.error().describe();
  ASSERT_EQ(shipped->size(), 5u);
  EXPECT_EQ(shipped->front().file, "pipelines/specs/animals.yaml");
  EXPECT_EQ(shipped->at(1).file, "pipelines/specs/crunchbase-orgs.yaml");
  EXPECT_EQ(shipped->at(2).file, "pipelines/specs/randomuser.yaml");
  EXPECT_EQ(shipped->at(3).file, "pipelines/specs/spacex-crew.yaml");
  EXPECT_EQ(shipped->at(4).file, "pipelines/specs/spacex-launches.yaml");
  const auto dir = fs::temp_directory_path() / ("etl-user-specs-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "small.yaml") << good;
  auto with_user = load_pipelines({dir});
  // A user's spec may not take a shipped pipeline's name.
  std::ofstream(dir / "taken.yaml") << replaced("name: small", "name: animals");
  auto taken = load_pipelines({dir});
  fs::remove_all(dir);
  ASSERT_TRUE(with_user) << with_user.error().describe();
  ASSERT_EQ(with_user->size(), 6u);
  EXPECT_EQ(with_user->at(5).name, "small");
  ASSERT_FALSE(taken);
  EXPECT_NE(taken.error().message.find("also the name of pipelines/specs/animals.yaml"),
            std::string::npos)
      << taken.error().describe();
}

TEST(pipeline_spec, two_specs_with_one_name_are_refused) {
  const auto dir = fs::temp_directory_path() / ("etl-specs-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.yaml") << good;
  std::ofstream(dir / "b.yaml") << good;
  auto all = load_pipeline_specs({dir});
  fs::remove_all(dir);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().field, "name");
  EXPECT_NE(all.error().message.find("also the name of"), std::string::npos)
      << all.error().describe();
  auto missing = load_pipeline_specs({dir});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot read the folder"), std::string::npos);
}

}  // namespace
}  // namespace etl
