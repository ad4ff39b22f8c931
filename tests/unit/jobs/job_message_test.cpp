// The job stream's messages: what a decoder accepts, what it refuses and why, and that encode
// and decode agree on every field.
#include <gtest/gtest.h>

#include "etl/jobs/batch_message.hpp"
#include "etl/jobs/plan_message.hpp"

namespace etl {
namespace {

const std::string task = "0b9f3a52-8c3e-4f7e-9a51-2d6c1f0e7a10";

TEST(job_message, plan_round_trips) {
  const plan_message sent{task, true, "spacex-crew"};
  const auto fields = encode(sent);
  EXPECT_EQ(fields.at("type"), "plan");
  EXPECT_EQ(fields.at("v"), "2");
  auto got = decode_plan_message(fields);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->task_id, task);
  EXPECT_TRUE(got->audit);
  EXPECT_EQ(got->pipeline, "spacex-crew");
  EXPECT_EQ(job_type_of(fields).value(), job_type::plan);
}

TEST(job_message, batch_round_trips) {
  const batch_message sent{
      task, 7, 71, 80, false, "randomuser", R"({"seed":"abc","results":500})", "2026-12-07"};
  auto got = decode_batch_message(encode(sent));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->task_id, task);
  EXPECT_EQ(got->batch_no, 7);
  EXPECT_EQ(got->first_page, 71);
  EXPECT_EQ(got->last_page, 80);
  EXPECT_FALSE(got->audit);
  EXPECT_EQ(got->pipeline, "randomuser");
  EXPECT_EQ(got->params, R"({"seed":"abc","results":500})");
}

// Version 1 had no pipeline: every task ran animals. Version 2 requires the field.
TEST(job_message, version_1_entries_are_animals_and_version_2_needs_the_pipeline) {
  const job_fields v1{{"type", "plan"}, {"v", "1"}, {"task", task}, {"audit", "0"}};
  auto old = decode_plan_message(v1);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->pipeline, "animals");
  auto v2 = v1;
  v2["v"] = "2";
  auto got = decode_plan_message(v2);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "plan job: field 'pipeline' is missing");
}

TEST(job_message, batch_params_must_be_a_json_object) {
  auto fields = encode(batch_message{task, 1, 1, 1, false, "animals", "{}", "2026-12-07"});
  fields["params"] = "[1]";
  auto got = decode_batch_message(fields);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "batch job: field 'params' is not a JSON object");
}

// Entries queued before messages carried a version have version 1's fields and no `v`.
TEST(job_message, an_entry_without_a_version_reads_as_version_1) {
  const job_fields old{{"type", "batch"},    {"task", task},      {"batch", "3"},
                       {"first_page", "31"}, {"last_page", "40"}, {"audit", "1"}};
  auto got = decode_batch_message(old);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->batch_no, 3);
  EXPECT_TRUE(got->audit);
  EXPECT_EQ(got->pipeline, "animals");
  EXPECT_EQ(got->params, "{}");
  EXPECT_EQ(got->task_date, "");
}

// Version 3 added the task's day: a version 2 entry (queued by the server before) has none,
// and version 3 requires one.
TEST(job_message, task_date_came_with_version_3) {
  auto fields = encode(batch_message{task, 1, 1, 1, false, "spacex-launches", "{}", "2026-12-07"});
  EXPECT_EQ(fields.at("v"), "3");
  auto got = decode_batch_message(fields);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->task_date, "2026-12-07");
  auto v2 = fields;
  v2["v"] = "2";
  v2.erase("task_date");
  got = decode_batch_message(v2);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->task_date, "");
  fields["task_date"] = "20261207";
  got = decode_batch_message(fields);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "batch job: task_date '20261207' is not YYYY-MM-DD");
}

// A dead-letter entry holds the job's fields plus its own; the decoder ignores the extra ones.
TEST(job_message, unknown_fields_are_ignored) {
  auto fields = encode(batch_message{task, 2, 21, 30, true, "animals", "{}", "2026-12-07"});
  fields["reason"] = "delivered 6 times";
  fields["deliveries"] = "6";
  EXPECT_TRUE(decode_batch_message(fields));
}

TEST(job_message, a_newer_version_is_refused_with_what_to_do) {
  auto fields = encode(plan_message{task, false});
  fields["v"] = "3";
  auto got = decode_plan_message(fields);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            "plan job: version 3 is newer than this binary reads (2): run one version of "
            "etl-server and etl-worker");
}

TEST(job_message, another_type_is_refused) {
  auto got = decode_batch_message(encode(plan_message{task, false}));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "batch job: the entry is a plan job");
  EXPECT_EQ(job_type_of({{"type", "sweep"}}).error().message, "unknown job type 'sweep'");
  EXPECT_EQ(job_type_of({}).error().message, "job without a type");
}

TEST(job_message, the_first_bad_field_is_named) {
  auto fields = encode(batch_message{task, 2, 21, 30, true, "animals", "{}", "2026-12-07"});
  fields.erase("first_page");
  fields["last_page"] = "x";
  auto got = decode_batch_message(fields);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "batch job: field 'first_page' is missing");
}

TEST(job_message, numbers_and_flags_are_checked) {
  auto bad = [](const char* name, const char* value) {
    auto fields = encode(batch_message{task, 2, 21, 30, true, "animals", "{}", "2026-12-07"});
    fields[name] = value;
    auto got = decode_batch_message(fields);
    return got ? std::string("accepted") : got.error().message;
  };
  EXPECT_EQ(bad("batch", "-1"),
            "batch job: field 'batch' is not a number in [0, 2147483647]: '-1'");
  EXPECT_EQ(bad("first_page", "0"),
            "batch job: field 'first_page' is not a number in [1, 2147483647]: '0'");
  EXPECT_EQ(bad("last_page", "10 "),
            "batch job: field 'last_page' is not a number in [1, 2147483647]: '10 '");
  EXPECT_EQ(bad("last_page", "99999999999"),
            "batch job: field 'last_page' is not a number in [1, 2147483647]: '99999999999'");
  EXPECT_EQ(bad("audit", "yes"), "batch job: field 'audit' is not 0 or 1: 'yes'");
  EXPECT_EQ(bad("last_page", "20"), "batch job: pages 21..20 are an empty range");
  EXPECT_EQ(bad("task", "t1"), "batch job: task 't1' is not a uuid");
}

TEST(job_message, task_of_reads_any_entry) {
  EXPECT_EQ(task_of(encode(plan_message{task, false})), task);
  EXPECT_EQ(task_of({{"type", "mystery"}}), "");
}

}  // namespace
}  // namespace etl
