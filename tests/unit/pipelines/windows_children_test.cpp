// The kinds the spacex-launches pipeline is made of: a POST body with placeholders, day windows
// from date parameters (their "today"/"yesterday" defaults and checks), child tables exploded
// from an array of each record, a date derived from a date-time, the answers kept as JSON Lines,
// and the loader's errors for each of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/params.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "shipped_spec.hpp"

namespace etl {
namespace {

namespace fs = std::filesystem;
namespace js = boost::json;

pipeline_spec launches_spec() {
  return shipped_spec("spacex-launches");
}

// A Falcon Heavy launch as the v5 API gives it (the fields the spec reads), its third core
// without a core id.
const char* heavy = R"({"cores":[
  {"core":"5e9e28a6f35918c0803b265c","flight":1,"gridfins":true,"legs":true,"reused":false,
   "landing_attempt":true,"landing_success":true,"landing_type":"RTLS","landpad":"5e9e3032383ecb267a34e7c7"},
  {"core":"5e9e28a6f3591814f53b265d","flight":2,"gridfins":true,"legs":true,"reused":true,
   "landing_attempt":true,"landing_success":false,"landing_type":"ASDS","landpad":null},
  {"core":null,"flight":null,"gridfins":null,"legs":null,"reused":null,"landing_attempt":null,
   "landing_success":null,"landing_type":null,"landpad":null}],
  "flight_number":55,"name":"Falcon Heavy Test","date_utc":"2018-02-06T20:45:00.000Z",
  "date_unix":1517949900,"date_local":"2018-02-06T15:45:00-05:00","date_precision":"hour",
  "upcoming":false,"success":true,"id":"5eb87d13ffd86e000604b360"})";

TEST(window_kinds, the_post_body_is_filled_with_the_page_and_window) {
  const auto s = launches_spec();
  ASSERT_TRUE(s.windows);
  EXPECT_EQ(s.source.method, "POST");
  const js::object params{{"start_date", "2020-01-01"}, {"end_date", "2020-06-01"}};
  const request_values v{2, params, "2020-03-04", "2020-03-05"};
  EXPECT_EQ(page_target(s.source, "", v), "/v5/launches/query");
  EXPECT_EQ(js::parse(page_body(s.source, v)),
            js::parse(R"({"query":{"date_utc":{"$gte":"2020-03-04T00:00:00.000Z",
                                               "$lt":"2020-03-05T00:00:00.000Z"}},
                          "options":{"page":2,"limit":100,"sort":{"date_utc":"asc","_id":"asc"}}})"));
}

TEST(window_kinds, a_launch_becomes_a_row_and_one_row_per_core_with_a_core) {
  const auto s = launches_spec();
  auto rows = type_rows(js::parse(heavy).as_object(), s);
  ASSERT_TRUE(rows) << rows.error().describe();
  EXPECT_EQ(js::serialize(rows->record.values.back()), R"("2018-02-06")");
  ASSERT_EQ(rows->children.size(), 1u);
  ASSERT_EQ(rows->children[0].size(), 2u);
  EXPECT_EQ(rows->skipped, 1);
  // Parent fields first (launch_id, p_creation_date), then the entry's own.
  js::array first;
  for (const auto& v : rows->children[0][1].values)
    first.push_back(v);
  EXPECT_EQ(js::serialize(first),
            R"(["5eb87d13ffd86e000604b360","2018-02-06","5e9e28a6f3591814f53b265d",2,true,true,)"
            R"(true,true,false,"ASDS",null])");

  auto bad = js::parse(heavy).as_object();
  bad["cores"].as_array()[1].as_object()["flight"] = "two";
  auto r = type_rows(bad, s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().describe(), "cores[1].flight: must be an integer or null, got string");
}

TEST(window_kinds, utc_date_is_the_day_of_the_instant_not_of_the_local_clock) {
  const auto s = launches_spec();
  auto at = [&](const char* date_utc) {
    auto launch = js::parse(heavy).as_object();
    launch["date_utc"] = date_utc;
    auto r = type_rows(launch, s);
    return r ? std::string(r->record.values.back().as_string()) : r.error().describe();
  };
  EXPECT_EQ(at("2022-01-01T22:00:00-05:00"), "2022-01-02");
  EXPECT_EQ(at("2022-01-01T01:00:00+02:00"), "2021-12-31");
  EXPECT_EQ(at("1969-12-31T23:59:59.999Z"), "1969-12-31");
  // A date-time that is not one is refused where it is read, never derived from.
  EXPECT_EQ(at("2022-13-01T00:00:00Z"),
            "date_utc: '2022-13-01T00:00:00Z' is not an ISO 8601 date-time with an offset");
}

TEST(window_kinds, date_defaults_are_the_trigger_day_and_windows_are_checked) {
  const auto s = launches_spec();
  const auto today = *date_days("2026-12-07");
  auto p = check_params(s, {}, false, today);
  ASSERT_TRUE(p) << p.error().detail;
  EXPECT_EQ(js::serialize(*p), R"({"start_date":"2026-12-06","end_date":"2026-12-07"})");
  EXPECT_FALSE(check_windows(s, *p));
  const auto range = window_range_of(s, *p);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->days, 1);

  auto same = check_params(s, {{"start_date", "2026-12-07"}}, true, today);
  ASSERT_TRUE(same);
  const auto bad = check_windows(s, *same);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->code, "invalid_parameter");
  EXPECT_EQ(bad->detail,
            "end_date must be after start_date (the window is [start_date, end_date), days, UTC)");
  auto long_range =
      check_params(s, {{"start_date", "1700-01-01"}, {"end_date", "2026-01-01"}}, true, today);
  ASSERT_TRUE(long_range);
  ASSERT_TRUE(check_windows(s, *long_range));
  EXPECT_EQ(check_windows(s, *long_range)->detail,
            "start_date..end_date spans 119069 days, more than 100000");
}

TEST(window_kinds, pages_are_kept_one_answer_per_line) {
  const auto s = launches_spec();
  const auto root = fs::temp_directory_path() / ("etl-pages-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::vector<std::string> pages{R"({"docs":[],"totalDocs":0})", R"({"docs":[{"a":"é"}]})"};
  auto file = write_batch_pages(root, s.sinks[0], 0, pages,
                                {"0b9f3a52-8c3e-4f7e-9a51-2d6c1f0e7a10", "20261207", 3});
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ(file->path, "spacex/raw/0b9f3a52-8c3e-4f7e-9a51-2d6c1f0e7a10-3.jsonl");
  EXPECT_EQ(file->rows, 2);
  std::ifstream in(root / file->path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), pages[0] + "\n" + pages[1] + "\n");
  fs::remove_all(root);
}

// The loader's verdict on `spec` (with the launches spec's own parts swapped in by the caller).
std::string load_error(const std::string& text) {
  auto r = parse_pipeline_spec(text, "w.yaml");
  return r ? std::string("accepted") : r.error().describe();
}

const std::string small = R"(name: w
parameters:
  start: {type: date, default: yesterday}
  end: {type: date, default: today}
windows: {start: start, end: end}
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:1"}
  method: POST
  path: /q
  body: {from: "{window.start}", page: "{page}"}
  records: docs
  key: id
  paginator: {kind: page_number, total_pages: pages, page_size: 10}
transform:
  fields:
    id: {type: string}
    at: {type: date_time}
    day: {from: at, type: date, derive: utc_date}
  children:
    parts:
      from: parts
      parent: [id]
      index: part_no
      fields:
        part: {type: string}
sinks:
  - {kind: files, from: pages, format: jsonl, folder: raw}
  - {kind: files, from: parts, format: csv, folder: parts, key: [id, part_no]}
)";

std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos)
    throw std::runtime_error("not in the spec: " + from);
  return text.replace(at, from.size(), to);
}

TEST(window_kinds, the_loader_names_what_is_wrong_and_where) {
  EXPECT_EQ(load_error(small), "accepted");
  EXPECT_EQ(load_error(with(small, "format: jsonl, folder: raw", "format: csv, folder: raw")),
            "w.yaml:28:40: sinks[0].format: pages are written as jsonl, one answer per line");
  EXPECT_EQ(load_error(with(small, "from: parts, format", "from: bits, format")),
            "w.yaml:29:25: sinks[1].from: 'bits' is not records, pages or one of "
            "transform.children");
  EXPECT_EQ(load_error(with(small, "key: [id, part_no]", "key: [id, part_no], partition_by: at")),
            "w.yaml:29:94: sinks[1].partition_by: 'at' is not one of transform.children.parts");
  EXPECT_EQ(load_error(with(small, "type: date, derive", "type: string, derive")),
            "w.yaml:19:43: transform.fields.day.derive: utc_date makes a date: the field's type "
            "must be date");
  EXPECT_EQ(load_error(with(small, "end: {type: date, default: today}", "end: {type: int}")),
            "w.yaml:5:30: windows.end: 'end' is not a date parameter of this pipeline");
  EXPECT_EQ(load_error(with(small, "default: yesterday", "default: monday")),
            "w.yaml:3:32: parameters.start.default: 'monday' is not a date: YYYY-MM-DD, today or "
            "yesterday (UTC)");
  EXPECT_EQ(load_error(with(small, "method: POST", "method: GET")),
            "w.yaml:11:9: source.body: a body is for method POST");
  EXPECT_EQ(load_error(with(small, "{window.start}", "{window.first}")),
            "w.yaml:11:16: source.body.from: unknown placeholder {window.first} (usable here: "
            "{page}, {params.end}, {params.start}, {window.end}, {window.start})");
  EXPECT_EQ(load_error(with(small, "parent: [id]", "parent: [idx]")),
            "w.yaml:23:16: transform.children.parts.parent[0]: 'idx' is not one of "
            "transform.fields");
  EXPECT_EQ(load_error(with(small, "index: part_no", "index: id")),
            "w.yaml:24:14: transform.children.parts.index: 'id' is a parent field already");
}

}  // namespace
}  // namespace etl
