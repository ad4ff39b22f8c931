// etl-verify refuses a --task that is not a task id as the server prints it (a lower-case UUID)
// before it touches the audit directory, so a hostile value cannot name a folder outside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "etl/test/child_process.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<std::string> hostile_task_ids() {
  return {"../../etc",
          "..",
          "/tmp",
          "",
          "0B7C3A52-2F4E-4A51-9D0E-6F1C2B3A4D5E",
          "{0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e}",
          "0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e/../../x",
          "../../../../../../../../../../../x/y"};
}

// etl-verify's arguments for `task`; nothing listens on the source URL (it is never reached).
std::vector<std::string> verify_args(const std::string& task, const fs::path& audit_dir) {
  std::vector<std::string> args;
  for (const char* a : {"--task", "", "--audit-dir", "", "--source-url", "http://127.0.0.1:9"})
    args.emplace_back(a);
  args[1] = task;
  args[3] = audit_dir.string();
  return args;
}

TEST(verify_cli, refuses_a_task_that_is_not_a_canonical_uuid_before_reading_anything) {
  const auto root =
      fs::temp_directory_path() / ("etl-verify-cli-" + std::to_string(std::random_device{}()));
  const auto audit = root / "a" / "audit";
  fs::create_directories(audit);
  const auto verify = (fs::path(bin_dir) / "etl-verify").string();
  for (const auto& id : hostile_task_ids()) {
    auto child = child_process::start(verify, verify_args(id, audit), {.merge_stderr = true});
    ASSERT_TRUE(child) << child.error().message();
    ASSERT_TRUE(child->read_until_eof(10s));
    EXPECT_EQ(child->wait(10s), 2) << id;
    EXPECT_NE(child->output().find("lower-case UUID"), std::string::npos)
        << id << ": " << child->output();
  }
  for (const auto& e : fs::recursive_directory_iterator(root))
    EXPECT_TRUE(e.path() == root / "a" || e.path() == audit) << "appeared: " << e.path();
  fs::remove_all(root);
}

}  // namespace
}  // namespace etl::test
