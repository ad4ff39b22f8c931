// Reading back what file_writer wrote (etl-verify's Parquet check): every column type, nulls in
// optional columns, many pages and row groups, each codec; and files it must refuse rather than
// misread. DuckDB's reading of the same writer is the integration tests'.
#include "etl/parquet/read.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "etl/parquet/file_writer.hpp"

namespace etl::parquet {
namespace {

namespace fs = std::filesystem;

schema every_type() {
  return {{{"id", column_type::int64, repetition::required},
           {"name", column_type::string, repetition::optional},
           {"small", column_type::int32, repetition::optional},
           {"ratio", column_type::float64, repetition::required},
           {"flag", column_type::boolean, repetition::optional},
           {"day", column_type::date, repetition::required},
           {"at", column_type::timestamp, repetition::optional}}};
}

class parquet_read : public ::testing::TestWithParam<codec> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("etl-parquet-read-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `rows` rows in small pages and row groups of 97 rows; every third name null, every fifth
  // flag, every seventh timestamp.
  fs::path write(int rows, codec c) {
    writer_options o;
    o.compression = c;
    o.row_group_rows = 97;
    o.page_bytes = 256;  // many pages a chunk
    const auto path = dir_ / "t.parquet";
    auto w = file_writer::create(path, every_type(), o);
    EXPECT_TRUE(w) << w.error().message();
    for (int i = 0; i < rows; ++i) {
      const std::string name = "name \"" + std::to_string(i) + "\", ünï";
      const value row[] = {std::int64_t{i} * 1'000'000'007,
                           i % 3 == 0 ? value{} : value{std::string_view(name)},
                           value{std::int32_t{-i}},
                           0.5 + i,
                           i % 5 == 0 ? value{} : value{i % 2 == 0},
                           date{i - 100},
                           i % 7 == 0 ? value{} : value{timestamp{std::int64_t{i} * 1'000'001}}};
      EXPECT_FALSE(w->write_row(row));
    }
    EXPECT_FALSE(w->close());
    return path;
  }

  fs::path dir_;
};

TEST_P(parquet_read, every_column_reads_back_as_written_row_by_row) {
  constexpr int rows = 1000;
  const auto path = write(rows, GetParam());
  auto count = count_rows(path);
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(*count, static_cast<std::uint64_t>(rows));
  std::vector<std::vector<std::string>> columns;
  for (const auto& c : every_type().columns) {
    auto got = read_column_text(path, every_type(), c.name);
    ASSERT_TRUE(got) << c.name << ": " << got.error().message();
    ASSERT_EQ(got->size(), static_cast<std::size_t>(rows)) << c.name;
    columns.push_back(std::move(*got));
  }
  for (int i = 0; i < rows; ++i) {
    const auto at = static_cast<std::size_t>(i);
    EXPECT_EQ(columns[0][at], std::to_string(std::int64_t{i} * 1'000'000'007));
    EXPECT_EQ(columns[1][at], i % 3 == 0 ? "" : "name \"" + std::to_string(i) + "\", ünï");
    EXPECT_EQ(columns[2][at], std::to_string(-i));
    EXPECT_EQ(columns[3][at], value_text(0.5 + i));
    EXPECT_EQ(columns[4][at], i % 5 == 0 ? "" : (i % 2 == 0 ? "true" : "false")) << i;
    EXPECT_EQ(columns[5][at], "date:" + std::to_string(i - 100));
    EXPECT_EQ(columns[6][at],
              i % 7 == 0 ? "" : "ts:" + std::to_string(std::int64_t{i} * 1'000'001));
  }
}

INSTANTIATE_TEST_SUITE_P(codecs, parquet_read,
                         ::testing::Values(codec::uncompressed, codec::snappy, codec::zstd));

TEST(parquet_read_refusals, another_schema_a_cut_file_and_no_parquet_are_refused) {
  const auto dir = fs::temp_directory_path() / ("etl-parquet-refuse-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const schema s{{{"id", column_type::int64, repetition::required}}};
  const auto path = dir / "one.parquet";
  {
    auto w = file_writer::create(path, s, {});
    ASSERT_TRUE(w);
    for (std::int64_t i = 0; i < 100; ++i) {
      const value row[] = {i};
      ASSERT_FALSE(w->write_row(row));
    }
    ASSERT_FALSE(w->close());
  }
  ASSERT_TRUE(read_column_text(path, s, "id"));
  // The column as a string, or a column the file lacks: refused.
  const schema as_text{{{"id", column_type::string, repetition::required}}};
  EXPECT_EQ(read_column_text(path, as_text, "id").error(), make_error_code(errc::not_mergeable));
  EXPECT_EQ(read_column_text(path, s, "nope").error(), make_error_code(errc::not_mergeable));
  // A page cut in the middle (the footer kept): unreadable, not misread.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[20] = static_cast<char>(bytes[20] ^ 0x5a);
  std::ofstream(dir / "bad.parquet", std::ios::binary) << bytes;
  const auto bad = read_column_text(dir / "bad.parquet", s, "id");
  EXPECT_FALSE(bad && *bad == *read_column_text(path, s, "id"))
      << "a flipped byte in a page went unnoticed";
  // Not Parquet at all.
  std::ofstream(dir / "text.parquet") << "id\n1\n";
  EXPECT_FALSE(count_rows(dir / "text.parquet"));
  EXPECT_FALSE(read_column_text(dir / "text.parquet", s, "id"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace etl::parquet
