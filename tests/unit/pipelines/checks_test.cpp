// Data-quality checks of a batch: what each counts, what blocks, and how the loader refuses a
// check that cannot run.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "etl/pipelines/checks.hpp"
#include "etl/pipelines/spec_loader.hpp"

namespace etl {
namespace {

namespace js = boost::json;

const std::string spec_text = R"(name: q
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:1"}
  path: /x
  key: id
  paginator: {kind: single}
transform:
  fields:
    id: {type: string}
    email: {type: string, nullable: true}
    age: {type: int, nullable: true}
checks:
  - {kind: unique, field: email, blocking: false}
  - {kind: range, field: age, min: 0, max: 120}
  - {kind: not_null, field: email}
sinks:
  - {kind: files, format: csv, folder: q}
)";

typed_record row(const char* id, js::value email, js::value age) {
  return typed_record{{js::value(id), std::move(email), std::move(age)}};
}

TEST(checks, each_check_counts_its_failing_records) {
  auto spec = parse_pipeline_spec(spec_text, "q.yaml");
  ASSERT_TRUE(spec) << spec.error().describe();
  const std::vector<typed_record> rows{row("1", "a@x", 30), row("2", "a@x", 130),
                                       row("3", nullptr, nullptr), row("4", "b@x", -1)};
  const auto q = check_batch(*spec, rows);
  EXPECT_EQ(js::serialize(q.to_json()),
            R"x({"records":4,"nulls":{"id":0,"email":1,"age":1},"checks":[)x"
            R"x({"check":"unique(email)","blocking":false,"failing":1,"passed":false,)x"
            R"x("example":"\"a@x\""},{"check":"range(age, 0..120)","blocking":true,"failing":2,)x"
            R"x("passed":false,"example":"130"},{"check":"not_null(email)","blocking":true,)x"
            R"x("failing":1,"passed":false,"example":"null"}]})x");
  EXPECT_EQ(q.blocking_failure(), "check range(age, 0..120) failed: 2 of 4 records, e.g. 130");
  const auto clean = check_batch(*spec, std::vector<typed_record>{row("1", "a@x", 1)});
  EXPECT_EQ(clean.blocking_failure(), "");
}

TEST(checks, the_loader_refuses_a_check_that_cannot_run) {
  auto error = [](const std::string& from, const std::string& to) {
    auto text = spec_text;
    text.replace(text.find(from), from.size(), to);
    auto r = parse_pipeline_spec(text, "q.yaml");
    return r ? std::string("accepted") : r.error().describe();
  };
  EXPECT_EQ(error("field: age, min", "field: email, min"),
            "q.yaml:15:26: checks[1].field: a range is for int and number fields");
  EXPECT_EQ(error("{kind: not_null, field: email}", "{kind: not_null, field: mail}"),
            "q.yaml:16:29: checks[2].field: 'mail' is not one of transform.fields");
  EXPECT_EQ(error("min: 0, max: 120", "min: zero"),
            "q.yaml:15:36: checks[1].min: must be a number, not 'zero'");
}

}  // namespace
}  // namespace etl
