#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "etl/audit/audit_dump.hpp"
#include "etl/audit/verification.hpp"
#include "etl/core/error.hpp"
#include "etl/core/uuid.hpp"

namespace etl {
namespace {

namespace fs = std::filesystem;
constexpr const char* task = "0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e";

class audit_dir_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("etl-audit-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(task_id, only_canonical_uuids_name_an_audit_folder) {
  EXPECT_TRUE(is_uuid(task));
  EXPECT_TRUE(is_uuid("0B7C3A52-2F4E-4A51-9D0E-6F1C2B3A4D5E"));
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("../../etc/passwd"));
  EXPECT_FALSE(is_uuid("0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5"));
  EXPECT_FALSE(is_uuid("0b7c3a52/2f4e-4a51-9d0e-6f1c2b3a4d5e"));
  EXPECT_FALSE(is_uuid("0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5g"));
  EXPECT_TRUE(is_canonical_uuid(task));
  EXPECT_FALSE(is_canonical_uuid("0B7C3A52-2F4E-4A51-9D0E-6F1C2B3A4D5E"));
  EXPECT_FALSE(is_canonical_uuid("{0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e}"));
}

TEST_F(audit_dir_test, dumps_round_trip) {
  const std::vector<std::int64_t> a{1, 2, 3}, b{10, 11};
  ASSERT_FALSE(write_audit_dump(dir_, task, 0, a));
  ASSERT_FALSE(write_audit_dump(dir_, task, 7, b));
  ASSERT_FALSE(write_audit_dump(dir_, task, 8, {}));
  auto dumps = read_audit_dumps(dir_, task);
  ASSERT_TRUE(dumps);
  EXPECT_EQ(dumps->size(), 3u);
  EXPECT_EQ(dumps->at(0), a);
  EXPECT_EQ(dumps->at(7), b);
  EXPECT_TRUE(dumps->at(8).empty());
  // No temporary file is left behind.
  for (auto& e : fs::directory_iterator(dir_ / task)) {
    EXPECT_TRUE(e.path().filename().string().starts_with("batch-")) << e.path();
  }
}

TEST_F(audit_dir_test, a_rewrite_replaces_the_whole_file) {
  const std::vector<std::int64_t> many{1, 2, 3, 4, 5, 6}, few{9};
  ASSERT_FALSE(write_audit_dump(dir_, task, 1, many));
  ASSERT_FALSE(write_audit_dump(dir_, task, 1, few));
  EXPECT_EQ(read_audit_dumps(dir_, task)->at(1), few);
}

// Forged task ids, as a forged Redis job could carry them.
std::vector<std::string> forged_task_ids() {
  return {"../outside",
          "",
          "..",
          "/tmp/outside",
          "0B7C3A52-2F4E-4A51-9D0E-6F1C2B3A4D5E",    // upper case: a second folder for the task
          "{0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e}",  // braces
          std::string("0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e\0/../x", 42),
          "../../../../../../../../../../../x/y",  // 36 bytes, like a UUID
          "0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e/../../outside"};
}

TEST_F(audit_dir_test, hostile_task_ids_cannot_leave_the_directory) {
  // The audit directory two levels down, so that an escape would land inside dir_ where the
  // walk below sees it.
  const auto audit = dir_ / "a" / "audit";
  fs::create_directories(audit);
  const std::vector<std::int64_t> ids{1};
  for (const auto& id : forged_task_ids()) {
    EXPECT_EQ(write_audit_dump(audit, id, 0, ids), make_error_code(errc::invalid_argument)) << id;
    EXPECT_EQ(read_audit_dumps(audit, id).error(), make_error_code(errc::invalid_argument)) << id;
  }
  EXPECT_EQ(write_audit_dump(audit, task, -1, ids), make_error_code(errc::invalid_argument));
  for (const auto& e : fs::recursive_directory_iterator(dir_))
    EXPECT_TRUE(e.path() == dir_ / "a" || e.path() == audit) << "written: " << e.path();
  EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "outside"));
}

TEST_F(audit_dir_test, a_corrupt_dump_is_reported_with_its_name) {
  fs::create_directories(dir_ / task);
  std::ofstream(dir_ / task / "batch-3.json") << "[1, 2, \"x\"]";
  std::string why;
  auto dumps = read_audit_dumps(dir_, task, &why);
  ASSERT_FALSE(dumps);
  EXPECT_EQ(dumps.error(), make_error_code(errc::parse_error));
  EXPECT_NE(why.find("batch-3.json"), std::string::npos) << why;
}

TEST_F(audit_dir_test, a_task_without_dumps_is_an_error) {
  EXPECT_TRUE(read_audit_dumps(dir_, task).has_error());
}

TEST(verification, exactly_once_passes) {
  auto v = verify_audit({0, 1, 2, 3}, {{0, {0, 1}}, {1, {3, 2}}});
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.expected, 4u);
  EXPECT_EQ(v.posted, 4u);
  EXPECT_NE(v.to_text().find("OK"), std::string::npos);
}

TEST(verification, finds_missing_duplicated_and_unexpected_ids) {
  // The source lists 5 twice (the listing may repeat ids): expected once.
  auto v = verify_audit({0, 1, 2, 3, 4, 5, 5}, {{0, {0, 1, 1}}, {1, {2, 99, 5}}, {2, {0}}});
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.expected, 6u);
  EXPECT_EQ(v.posted, 7u);
  EXPECT_EQ(v.missing, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(v.duplicated, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(v.unexpected, (std::vector<std::int64_t>{99}));
  const auto text = v.to_text(1);
  EXPECT_NE(text.find("missing:    2  [3, ... (1 more)]"), std::string::npos) << text;
  EXPECT_NE(v.to_json().find("\"missing_ids\":[3,4]"), std::string::npos) << v.to_json();
}

TEST(verification, ids_of_in_doubt_batches_are_unproven_not_missing) {
  // Batch 1 (ids 2, 3) was in doubt: no dump. Batch 2 was resent and dumped.
  ledger_facts ledger;
  ledger.in_doubt = {{1, {2, 3}}, {2, {4}}};
  auto v = verify_audit({0, 1, 2, 3, 4}, {{0, {0, 1}}, {2, {4}}}, ledger);
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(v.proven());
  EXPECT_TRUE(v.missing.empty());
  EXPECT_EQ(v.unproven, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(v.in_doubt_batches, (std::vector<int>{1, 2}));
  const auto text = v.to_text();
  EXPECT_NE(text.find("in doubt:   2 batch(es) [1, 2], 2 id(s) in no dump  [2, 3]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("IN DOUBT"), std::string::npos) << text;
  EXPECT_NE(v.to_json().find("\"unproven_ids\":[2,3]"), std::string::npos) << v.to_json();
  EXPECT_NE(v.to_json().find("\"ok\":false"), std::string::npos) << v.to_json();
}

TEST(verification, without_the_ledger_in_doubt_is_unknown_and_gaps_are_missing) {
  auto v = verify_audit({0, 1, 2}, {{0, {0, 1}}});
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.missing, (std::vector<std::int64_t>{2}));
  EXPECT_NE(v.to_text().find("in doubt:   unknown"), std::string::npos) << v.to_text();
  EXPECT_NE(v.to_text().find("rejected:   unknown"), std::string::npos) << v.to_text();
}

TEST(verification, rejected_records_are_accounted_for_with_their_reasons_not_missing) {
  // 3 and 5 were rejected; 4 is listed, in no dump and not rejected: still missing.
  ledger_facts ledger;
  ledger.rejected = {{3, "detail: missing field 'name'"}, {5, "detail: born_at is not a number"}};
  ledger.rejected_without_id = 1;
  auto v = verify_audit({0, 1, 2, 3, 4, 5}, {{0, {0, 1, 2}}}, ledger);
  EXPECT_EQ(v.missing, (std::vector<std::int64_t>{4}));
  ASSERT_EQ(v.rejected.size(), 2u);
  EXPECT_EQ(v.rejected[0].first, 3);
  EXPECT_EQ(v.rejected[1].second, "detail: born_at is not a number");
  EXPECT_FALSE(v.ok());

  auto all = verify_audit({0, 1, 2, 3, 5}, {{0, {0, 1, 2}}}, ledger);
  EXPECT_TRUE(all.ok());
  EXPECT_TRUE(all.accounted());
  EXPECT_FALSE(all.proven());
  const auto text = all.to_text();
  EXPECT_NE(text.find("rejected:   2 bad record(s), never posted\n  3: detail: missing field "
                      "'name'\n  5: detail: born_at is not a number\n  and 1 record(s) with no "
                      "readable id\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("REJECTED: every other id posted exactly once"), std::string::npos) << text;
  const auto json = all.to_json();
  EXPECT_NE(json.find("\"rejected\":2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"accounted\":true"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"id":3,"reason":"detail: missing field 'name'"})"), std::string::npos)
      << json;

  // A rejected id that another batch posted anyway is simply posted.
  auto posted = verify_audit({0, 1, 2, 3, 5}, {{0, {0, 1, 2}}, {1, {3, 5}}}, ledger);
  EXPECT_TRUE(posted.proven());
  EXPECT_TRUE(posted.rejected.empty());
}

}  // namespace
}  // namespace etl
