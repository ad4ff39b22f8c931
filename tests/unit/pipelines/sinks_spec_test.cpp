// The kinds a pipeline without hand-written code runs on: the postgres and files sinks' spec
// checks, typed records, a trigger's parameters, the upsert's merge and statement, and the
// files' bytes, read back by Python's csv and json modules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/params.hpp"
#include "etl/pipelines/postgres_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "shipped_spec.hpp"

namespace etl {
namespace {

namespace fs = std::filesystem;
namespace js = boost::json;

const std::string spec_text = R"(name: people
parameters:
  results: {type: int, default: 500, min: 1, max: 5000}
  day: {type: date}
  dry: {type: bool, default: false}
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:1/api"}
  path: /people
  query: {page: "{page}", results: "{params.results}"}
  records: results
  key: uuid
  paginator: {kind: page_number, total_pages: info.pages, page_size: 50}
transform:
  fields:
    uuid: {type: string, from: login.uuid}
    name: {type: string, from: name.first}
    age: {type: int, from: dob.age, min: 0}
    score: {type: number, nullable: true}
    seen: {type: date_time}
    country: {type: string, from: location.country}
sinks:
  - kind: postgres
    table: people.users
    key: [uuid]
  - kind: files
    format: csv
    folder: people/users
    partition_by: country
migrations:
  - version: 1
    name: users
    sql: CREATE TABLE people.users (uuid text PRIMARY KEY)
)";

pipeline_spec spec() {
  return parse_pipeline_spec(spec_text, "people.yaml").value();
}

std::string refused(const std::string& from, const std::string& to) {
  auto text = spec_text;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  auto r = parse_pipeline_spec(text, "people.yaml");
  EXPECT_FALSE(r) << "accepted: " << to;
  return r ? std::string() : r.error().describe();
}

TEST(sink_specs, postgres_and_files_sinks_and_migrations_parse) {
  const auto s = spec();
  ASSERT_EQ(s.sinks.size(), 2u);
  EXPECT_EQ(s.sinks[0].kind, sink_kind::postgres);
  EXPECT_EQ(s.sinks[0].table, "people.users");
  EXPECT_EQ(s.sinks[0].columns.size(), 6u);
  EXPECT_EQ(s.sinks[1].format, file_format::csv);
  EXPECT_EQ(s.sinks[1].partition_by, "country");
  EXPECT_EQ(s.fields[0].from, (std::vector<std::string>{"login", "uuid"}));
  ASSERT_EQ(s.migrations.size(), 1u);
  EXPECT_EQ(s.migrations[0].name, "users");
}

TEST(sink_specs, mistakes_are_named_with_their_line_and_field) {
  EXPECT_NE(refused("table: people.users", "table: users")
                .find("people.yaml:24:12: sinks[0].table: 'users' is not schema.table"),
            std::string::npos);
  EXPECT_NE(refused("key: [uuid]", "key: [email]").find("sinks[0].key[0]: 'email' is not one of"),
            std::string::npos);
  EXPECT_NE(refused("folder: people/users", "folder: ../etc").find("must not contain '.' or '..'"),
            std::string::npos);
  EXPECT_NE(refused("partition_by: country", "partition_by: score").find("'score' is nullable"),
            std::string::npos);
  EXPECT_NE(refused("format: csv", "format: xlsx")
                .find("unknown value 'xlsx' (known: csv, jsonl, parquet)"),
            std::string::npos);
  EXPECT_NE(refused("from: dob.age", "from: dob..age").find("has an empty key"), std::string::npos);
  EXPECT_NE(
      refused("  - version: 1", "  - version: 0").find("migrations[0].version: must be 1..9999"),
      std::string::npos);
  EXPECT_NE(refused("  - kind: postgres",
                    "  - kind: http_batch\n    url: {default: \"http://x\"}\n    max_records: 5\n"
                    "  - kind: postgres")
                .find("an http_batch sink is a pipeline's only sink"),
            std::string::npos);
}

js::object record(const char* text) {
  return js::parse(text).as_object();
}

TEST(typed_records, fields_come_from_nested_paths_typed_or_rejected_with_the_reason) {
  const auto s = spec();
  auto ok = type_record(record(R"({"login": {"uuid": "u1"}, "name": {"first": "Zoë"},
      "dob": {"age": 31}, "score": 2, "seen": "2024-02-29T23:59:59.5+05:30",
      "location": {"country": "Norway"}})"),
                        s.fields);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(js::serialize(js::value_from(ok->values)),
            R"(["u1","Zoë",31,2E0,"2024-02-29T23:59:59.5+05:30","Norway"])");
  auto reason = [&](const char* text) {
    auto r = type_record(record(text), s.fields);
    return r ? std::string("accepted") : r.error().describe();
  };
  const char* base = R"({"login": {"uuid": "u1"}, "name": {"first": "A"}, "dob": {"age": 3},
      "seen": "2024-01-01T00:00:00Z", "location": {"country": "X"}})";
  EXPECT_EQ(reason(base), "accepted");
  EXPECT_EQ(reason(R"({"login": "u1"})"), "uuid: 'login' is string, not an object");
  EXPECT_EQ(reason(R"({"login": {}})"), "uuid: is missing or null");
  std::string s2 = base;
  EXPECT_EQ(reason(s2.replace(s2.find("\"age\": 3"), 8, "\"age\": -1").c_str()),
            "age: must be at least 0, got -1");
  s2 = base;
  EXPECT_EQ(reason(s2.replace(s2.find("\"age\": 3"), 8, "\"age\": \"3\"").c_str()),
            "age: must be an integer, got string");
  s2 = base;
  EXPECT_EQ(reason(s2.replace(s2.find("00:00:00Z"), 9, "00:00:00").c_str()),
            "seen: '2024-01-01T00:00:00' is not an ISO 8601 date-time with an offset");
  EXPECT_FALSE(is_date("2023-02-29"));
  EXPECT_TRUE(is_date("2024-02-29"));
  EXPECT_FALSE(is_date_time("2024-01-01T24:00:00Z"));
}

TEST(trigger_params, typed_against_the_spec_with_defaults_filled_in) {
  const auto s = spec();
  auto q = check_params(s, {{"results", "20"}, {"day", "2022-12-05"}, {"dry", "yes"}}, true);
  ASSERT_TRUE(q) << q.error().detail;
  EXPECT_EQ(js::serialize(*q), R"({"results":20,"day":"2022-12-05","dry":true})");
  auto d = check_params(s, {}, false);
  ASSERT_TRUE(d);
  EXPECT_EQ(js::serialize(*d), R"({"results":500,"dry":false})");
  auto e = check_params(s, {{"result", 3}}, false);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "unknown_parameter");
  EXPECT_EQ(e.error().detail,
            "unknown parameter 'result' for pipeline people (its parameters: results, day, dry)");
  e = check_params(s, {{"results", "0"}}, true);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().detail, "results must be in 1..5000, got 0");
  e = check_params(s, {{"day", "12/05/2022"}}, true);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().detail, "day must be a date, YYYY-MM-DD");
  e = check_params(s, {{"results", "20"}}, false);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().detail, "results must be an integer");
}

typed_record row(const char* uuid, const char* name, std::int64_t age, const char* country) {
  return typed_record{{js::value(uuid), js::value(name), js::value(age), js::value(nullptr),
                       js::value("2024-01-01T00:00:00Z"), js::value(country)}};
}

TEST(postgres_sink, a_key_twice_in_a_batch_is_merged_the_last_winning) {
  const auto s = spec();
  const std::vector<typed_record> in{row("a", "first", 1, "X"), row("b", "b", 2, "X"),
                                     row("a", "second", 3, "Y")};
  const auto merged = merge_by_key(s.fields, s.sinks[0].key, in);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].values[0].as_string(), "b");
  EXPECT_EQ(merged[1].values[1].as_string(), "second");
  EXPECT_EQ(upsert_sql(s.sinks[0]),
            R"(INSERT INTO "people"."users" ("uuid", "name", "age", "score", "seen", "country") )"
            R"(SELECT "uuid", "name", "age", "score", "seen", "country" FROM )"
            R"(jsonb_populate_recordset(NULL::"people"."users", $1::jsonb) ON CONFLICT ("uuid") )"
            R"(DO UPDATE SET "name" = EXCLUDED."name", "age" = EXCLUDED."age", "score" = )"
            R"(EXCLUDED."score", "seen" = EXCLUDED."seen", "country" = EXCLUDED."country")");
  EXPECT_EQ(
      upsert_rows_json(s.fields, s.sinks[0], {merged.data(), 1}),
      R"([{"uuid":"b","name":"b","age":2,"score":null,"seen":"2024-01-01T00:00:00Z","country":"X"}])");
}

// Runs Python on `script` with `args`; returns what it printed.
std::string python(const std::string& script, const std::string& args) {
  const auto file = fs::temp_directory_path() / ("etl-py-" + std::to_string(::getpid()) + ".py");
  std::ofstream(file) << script;
  std::string out;
  FILE* p = ::popen(("python3 " + file.string() + " " + args).c_str(), "r");
  if (p == nullptr)
    return "popen failed";
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int rc = ::pclose(p);
  fs::remove(file);
  return rc == 0 ? out : "python failed: " + out;
}

TEST(files_sink, csv_is_rfc_4180_as_python_reads_it_and_rows_go_to_their_own_partition) {
  const auto s = spec();
  const auto root = fs::temp_directory_path() / ("etl-files-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::vector<typed_record> in{row("a", "comma, \"quote\"\r\nline", 1, "Côte d'Ivoire"),
                                     row("b", "𝄞 four bytes", 2, "NO"), row("c", "", 3, "NO")};
  const std::string task = "0b9f3a52-8c3e-4f7e-9a51-2d6c1f0e7a10";
  auto files = write_batch_files(root, s.sinks[1], 1, s.fields, in, {task, "20261207", 4});
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ(files->at(0).path, "people/users/country=C%C3%B4te%20d%27Ivoire/" + task + "-4.csv");
  EXPECT_EQ(files->at(0).rows, 1);
  EXPECT_EQ(files->at(1).path, "people/users/country=NO/" + task + "-4.csv");
  EXPECT_EQ(files->at(1).rows, 2);
  EXPECT_EQ(files->at(1).bytes, static_cast<std::int64_t>(fs::file_size(root / files->at(1).path)));
  const auto out = python(R"(import csv, sys
for path in sys.argv[1:]:
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    print(len(rows), repr(rows[0]), repr(rows[1][1]), repr(rows[1][3]))
)",
                          "'" + (root / files->at(0).path).string() + "' '" +
                              (root / files->at(1).path).string() + "'");
  EXPECT_EQ(out,
            "2 ['uuid', 'name', 'age', 'score', 'seen', 'country'] 'comma, \"quote\"\\r\\nline' "
            "''\n3 ['uuid', 'name', 'age', 'score', 'seen', 'country'] '𝄞 four bytes' ''\n");
  // No temporary is left beside the files.
  int entries = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    entries += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(entries, 2);
  fs::remove_all(root);
}

TEST(files_sink, json_lines_keep_types_and_order) {
  auto s = spec();
  s.sinks[1].format = file_format::jsonl;
  s.sinks[1].partition_by.clear();
  const auto text = to_jsonl(s.fields, std::vector<typed_record>{row("a", "x", 1, "NO")});
  EXPECT_EQ(text,
            "{\"uuid\":\"a\",\"name\":\"x\",\"age\":1,\"score\":null,\"seen\":\"2024-01-01T00:00:"
            "00Z\",\"country\":\"NO\"}\n");
  EXPECT_EQ(partition_folder_value(js::value("..")), "%..");
  EXPECT_EQ(partition_folder_value(js::value("a/b")), "a%2Fb");
}

TEST(files_sink, a_sink_writes_its_columns_in_its_order) {
  auto s = spec();
  s.sinks[1].format = file_format::jsonl;
  s.sinks[1].columns = {"country", "uuid"};
  const auto root = fs::temp_directory_path() / ("etl-cols-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::vector<typed_record> in{row("a", "x", 1, "NO")};
  auto files = write_batch_files(root, s.sinks[1], 1, s.fields, in,
                                 {"0b9f3a52-8c3e-4f7e-9a51-2d6c1f0e7a10", "20261207", 0});
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 1u);
  std::ifstream f(root / files->front().path);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(text.str(), "{\"country\":\"NO\",\"uuid\":\"a\"}\n");
  fs::remove_all(root);
}

TEST(sink_specs, the_spacex_crew_spec_validates_each_person) {
  const auto spec = shipped_spec("spacex-crew");
  EXPECT_EQ(spec.source.paginator.kind, paginator_kind::single);
  EXPECT_EQ(spec.source.base_url.env, "ETL_SPACEX_URL");
  const std::string person = R"({"name":"Robert Behnken","agency":"NASA",
      "image":"https://imgur.com/0smMgMH.png","wikipedia":"https://en.wikipedia.org/wiki/Robert_L._Behnken",
      "launches":["5eb87d46ffd86e000604b388"],"status":"active","id":"5ebf1a6e23a9a60006e03a7a"})";
  auto ok = type_record(record(person.c_str()), spec.fields);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(js::serialize(ok->values.back()), R"("active")");
  auto reason = [&](const std::string& from, const std::string& to) {
    auto text = person;
    text.replace(text.find(from), from.size(), to);
    auto r = type_record(record(text.c_str()), spec.fields);
    return r ? std::string("accepted") : r.error().describe();
  };
  EXPECT_EQ(reason(R"("status":"active")", R"("status":"lost")"),
            "status: 'lost' is not one of active, inactive, retired, unknown");
  EXPECT_EQ(reason(R"("id":"5ebf1a6e23a9a60006e03a7a")", R"("id":"5EBF")"),
            "id: '5EBF' does not match ^[0-9a-f]{24}$");
  EXPECT_EQ(reason(R"(["5eb87d46ffd86e000604b388"])", "[1]"),
            "launches: must hold only strings, got integer");
  EXPECT_EQ(reason(R"("name":"Robert Behnken")", R"("name":null)"), "accepted");
}

}  // namespace
}  // namespace etl
