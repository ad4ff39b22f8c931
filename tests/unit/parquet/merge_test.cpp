// merge_files without a reader: the rows and row groups of the inputs add up, the output is
// framed like a written file, and an input of another schema or codec, or no Parquet file at
// all, is refused. What DuckDB reads from a merged file is crunchbase_test's (compaction).
#include "etl/parquet/merge.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace etl::parquet {
namespace {

namespace fs = std::filesystem;

schema two_columns() {
  return {{{"id", column_type::int64, repetition::required},
           {"name", column_type::string, repetition::optional}}};
}

class parquet_merge : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("etl-parquet-merge-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A file of `rows` rows (ids from `first`), in row groups of `per_group` rows.
  fs::path write(const std::string& name, std::int64_t first, int rows, std::size_t per_group,
                 codec c = codec::snappy, schema s = two_columns()) {
    writer_options o;
    o.compression = c;
    o.row_group_rows = per_group;
    auto w = file_writer::create(dir_ / name, s, o);
    EXPECT_TRUE(w) << w.error().message();
    for (int i = 0; i < rows; ++i) {
      const std::string text = "name " + std::to_string(first + i);
      const value row[] = {first + i, i % 3 == 0 ? value{} : value{std::string_view(text)}};
      EXPECT_FALSE(w->write_row(row));
    }
    EXPECT_FALSE(w->close());
    return dir_ / name;
  }

  fs::path dir_;
};

TEST_F(parquet_merge, rows_and_row_groups_add_up_in_one_framed_file) {
  const std::vector<fs::path> inputs{write("a.parquet", 0, 10, 4), write("b.parquet", 10, 5, 100),
                                     write("c.parquet", 15, 7, 7)};
  const auto out = dir_ / "merged.parquet";
  const auto merged = merge_files(inputs, out, two_columns(), codec::snappy);
  ASSERT_TRUE(merged) << merged.error().message();
  EXPECT_EQ(merged->rows, 22u);
  EXPECT_EQ(merged->row_groups, 3u + 1u + 1u);
  EXPECT_EQ(merged->bytes, fs::file_size(out));
  std::ifstream in(out, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(bytes.substr(0, 4), "PAR1");
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "PAR1");
  // A merged file merges again: its own footer is read like the writer's.
  const std::vector<fs::path> again{out, write("d.parquet", 22, 3, 10)};
  const auto twice = merge_files(again, dir_ / "twice.parquet", two_columns(), codec::snappy);
  ASSERT_TRUE(twice) << twice.error().message();
  EXPECT_EQ(twice->rows, 25u);
}

TEST_F(parquet_merge, another_schema_codec_or_no_parquet_file_is_refused) {
  const auto good = write("a.parquet", 0, 5, 10);
  schema renamed = two_columns();
  renamed.columns[1].name = "title";
  const std::vector<std::vector<fs::path>> bad{
      {good, write("zstd.parquet", 5, 5, 10, codec::zstd)},
      {good, write("renamed.parquet", 5, 5, 10, codec::snappy, renamed)},
  };
  for (const auto& inputs : bad) {
    const auto merged = merge_files(inputs, dir_ / "out.parquet", two_columns(), codec::snappy);
    ASSERT_FALSE(merged) << inputs.back();
    EXPECT_EQ(merged.error(), make_error_code(errc::not_mergeable)) << inputs.back();
  }
  std::ofstream(dir_ / "text.parquet") << "id,name\n1,x\n";
  const std::vector<fs::path> text{dir_ / "text.parquet"};
  EXPECT_EQ(merge_files(text, dir_ / "out.parquet", two_columns(), codec::snappy).error(),
            make_error_code(errc::not_mergeable));
}

}  // namespace
}  // namespace etl::parquet
