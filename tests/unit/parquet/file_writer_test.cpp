// The writer's contract without a reader: values that do not fit are refused and leave the
// writer as it was, the file's frame (magic, footer length) is right, row groups are cut by
// rows and by bytes. What readers make of the files is tests/integration/parquet's.
#include "etl/parquet/file_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace etl::parquet {
namespace {

namespace fs = std::filesystem;

class parquet_writer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("etl-parquet-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  fs::path dir_;
};

schema two_columns() {
  return {{{"id", column_type::int32, repetition::required},
           {"name", column_type::string, repetition::optional}}};
}

TEST_F(parquet_writer, file_is_framed_by_magic_and_footer_length) {
  auto w = file_writer::create(dir_ / "a.parquet", two_columns());
  ASSERT_TRUE(w) << w.error().message();
  const value row[] = {std::int32_t{1}, std::string_view("x")};
  ASSERT_FALSE(w->write_row(row));
  ASSERT_FALSE(w->close());
  const auto data = read_all(dir_ / "a.parquet");
  ASSERT_GE(data.size(), 12u);
  EXPECT_EQ(data.substr(0, 4), "PAR1");
  EXPECT_EQ(data.substr(data.size() - 4), "PAR1");
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 8);
  const std::uint32_t footer =
      p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24;
  EXPECT_GT(footer, 0u);
  EXPECT_LT(footer, data.size() - 12);
  // FileMetaData starts with field 1 (version, i32) = 1: header 0x15, zigzag(1) = 0x02.
  EXPECT_EQ(static_cast<unsigned char>(data[data.size() - 8 - footer]), 0x15);
  EXPECT_EQ(static_cast<unsigned char>(data[data.size() - 8 - footer + 1]), 0x02);
  EXPECT_EQ(w->bytes_written(), data.size());
  EXPECT_EQ(w->rows_written(), 1u);
}

TEST_F(parquet_writer, values_that_do_not_fit_are_refused_never_cast) {
  schema s{{{"i32", column_type::int32, repetition::required},
            {"i64", column_type::int64, repetition::optional},
            {"d", column_type::float64, repetition::optional},
            {"b", column_type::boolean, repetition::optional},
            {"s", column_type::string, repetition::optional},
            {"day", column_type::date, repetition::optional},
            {"at", column_type::timestamp, repetition::optional}}};
  auto w = file_writer::create(dir_ / "b.parquet", s);
  ASSERT_TRUE(w);
  const value good[] = {std::int32_t{1},        std::int64_t{2}, 2.5,         true,
                        std::string_view("ok"), date{3},         timestamp{4}};
  auto with = [&](std::size_t i, value v) {
    std::vector<value> row(std::begin(good), std::end(good));
    row[i] = v;
    return w->write_row(row);
  };
  EXPECT_EQ(with(0, std::int64_t{1} << 31), errc::out_of_range);
  EXPECT_EQ(with(0, std::int64_t{-(1LL << 31) - 1}), errc::out_of_range);
  EXPECT_EQ(with(0, 1.0), errc::type_mismatch);
  EXPECT_EQ(with(0, value{}), errc::null_in_required);
  EXPECT_EQ(with(1, 1.0), errc::type_mismatch);
  EXPECT_EQ(with(1, timestamp{1}), errc::type_mismatch);
  EXPECT_EQ(with(2, std::int64_t{1}), errc::type_mismatch);
  EXPECT_EQ(with(3, std::int32_t{1}), errc::type_mismatch);
  EXPECT_EQ(with(4, std::int32_t{1}), errc::type_mismatch);
  EXPECT_EQ(with(4, std::string_view("\xC0\x80")), errc::invalid_utf8);          // overlong NUL
  EXPECT_EQ(with(4, std::string_view("\xED\xA0\x80")), errc::invalid_utf8);      // a surrogate
  EXPECT_EQ(with(4, std::string_view("\xE2\x82")), errc::invalid_utf8);          // cut short
  EXPECT_EQ(with(4, std::string_view("\xF4\x90\x80\x80")), errc::invalid_utf8);  // > U+10FFFF
  // Past the eight-byte ASCII fast path: the bad bytes come after 8, 9 and 16 ASCII ones.
  EXPECT_EQ(with(4, std::string_view("abcdefgh\xC0\x80")), errc::invalid_utf8);
  EXPECT_EQ(with(4, std::string_view("abcdefghi\xFF")), errc::invalid_utf8);
  EXPECT_EQ(with(4, std::string_view("abcdefghabcdefgh\xE2\x82")), errc::invalid_utf8);
  EXPECT_EQ(with(5, std::int32_t{1}), errc::type_mismatch);
  EXPECT_EQ(with(6, std::int64_t{1}), errc::type_mismatch);
  EXPECT_EQ(w->write_row(std::span<const value>(good, 3)), errc::wrong_column_count);
  EXPECT_EQ(w->rows_written(), 0u) << "a refused row leaves nothing behind";
  // What does fit goes in: a range-checked int64 in INT32, int32 in INT64, 4-byte UTF-8, nulls.
  EXPECT_FALSE(with(0, std::int64_t{-(1LL << 31)}));
  EXPECT_FALSE(with(1, std::int32_t{-7}));
  EXPECT_FALSE(with(4, std::string_view("\xF0\x9F\x8E\x89")));
  EXPECT_FALSE(with(6, value{}));
  EXPECT_EQ(w->rows_written(), 4u);
  EXPECT_FALSE(w->close());
  EXPECT_EQ(w->write_row(good), errc::writer_closed);
  EXPECT_EQ(w->close(), errc::writer_closed);
}

TEST_F(parquet_writer, column_batches_are_all_or_nothing) {
  auto w = file_writer::create(dir_ / "c.parquet", two_columns());
  ASSERT_TRUE(w);
  const value ids[] = {std::int32_t{1}, std::int32_t{2}};
  const value names[] = {std::string_view("a"), value{}};
  const value bad_names[] = {std::string_view("a"), std::int32_t{3}};
  const value short_names[] = {std::string_view("a")};
  std::span<const value> good[] = {ids, names};
  std::span<const value> bad[] = {ids, bad_names};
  std::span<const value> ragged[] = {ids, short_names};
  EXPECT_EQ(w->write_columns(bad), errc::type_mismatch);
  EXPECT_EQ(w->write_columns(ragged), errc::batch_length_mismatch);
  EXPECT_EQ(w->rows_written(), 0u);
  EXPECT_FALSE(w->write_columns(good));
  EXPECT_EQ(w->rows_written(), 2u);
  EXPECT_FALSE(w->close());
}

TEST_F(parquet_writer, bad_schemas_and_options_are_refused) {
  EXPECT_EQ(file_writer::create(dir_ / "d", schema{}).error(), errc::invalid_schema);
  schema dup{{{"a", column_type::int32}, {"a", column_type::int64}}};
  EXPECT_EQ(file_writer::create(dir_ / "d", dup).error(), errc::invalid_schema);
  schema unnamed{{{"", column_type::int32}}};
  EXPECT_EQ(file_writer::create(dir_ / "d", unnamed).error(), errc::invalid_schema);
  writer_options zero;
  zero.page_bytes = 0;
  EXPECT_EQ(file_writer::create(dir_ / "d", two_columns(), zero).error(), errc::invalid_options);
  EXPECT_FALSE(fs::exists(dir_ / "d")) << "nothing is created for a refused schema";
  EXPECT_EQ(file_writer::create(dir_ / "no" / "such" / "dir", two_columns()).error(),
            boost::system::errc::no_such_file_or_directory);
}

TEST_F(parquet_writer, row_groups_are_cut_by_rows_and_by_bytes) {
  // Nothing reaches the file before a row group is full: only the 4-byte magic.
  writer_options by_rows;
  by_rows.row_group_rows = 100;
  auto w = file_writer::create(dir_ / "e.parquet", two_columns(), by_rows);
  ASSERT_TRUE(w);
  const value row[] = {std::int32_t{1}, std::string_view("some text")};
  for (int i = 0; i < 99; ++i)
    ASSERT_FALSE(w->write_row(row));
  EXPECT_EQ(w->bytes_written(), 4u);
  ASSERT_FALSE(w->write_row(row));
  EXPECT_GT(w->bytes_written(), 4u) << "the 100th row completes a row group";
  ASSERT_FALSE(w->close());

  // A byte budget of 64 KiB with 1 KiB strings: the row group goes out after ~64 rows, long
  // before the row limit, and the file keeps growing as rows come (memory stays bounded).
  writer_options by_bytes;
  by_bytes.row_group_bytes = 64 << 10;
  by_bytes.page_bytes = 8 << 10;
  by_bytes.compression = codec::uncompressed;
  auto b = file_writer::create(dir_ / "f.parquet", two_columns(), by_bytes);
  ASSERT_TRUE(b);
  const std::string big(1024, 'x');
  const value wide[] = {std::int32_t{1}, std::string_view(big)};
  for (int i = 0; i < 64; ++i)
    ASSERT_FALSE(b->write_row(wide));
  EXPECT_GE(b->bytes_written(), 64u << 10);
  EXPECT_LT(b->bytes_written(), 66u << 10);
  for (int i = 0; i < 1000; ++i)
    ASSERT_FALSE(b->write_row(wide));
  EXPECT_GT(b->bytes_written(), 1000u << 10);
  ASSERT_FALSE(b->close());
}

TEST_F(parquet_writer, writes_to_a_descriptor_it_does_not_own) {
  const auto path = dir_ / "g.parquet";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  auto w = file_writer::adopt_fd(fd, two_columns());
  ASSERT_TRUE(w);
  ASSERT_FALSE(w->close());
  // Still open: the caller fsyncs and closes it (the files sink's temp + rename protocol).
  EXPECT_EQ(::fsync(fd), 0);
  EXPECT_EQ(::close(fd), 0);
  EXPECT_EQ(fs::file_size(path), w->bytes_written());
}

TEST_F(parquet_writer, a_write_error_is_reported_as_the_system_error) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // a pipe with no reader: write() fails with EPIPE (SIGPIPE ignored here)
  auto old = ::signal(SIGPIPE, SIG_IGN);
  auto w = file_writer::adopt_fd(fds[1], two_columns());
  EXPECT_FALSE(w);
  if (!w) {
    EXPECT_EQ(w.error(), boost::system::errc::broken_pipe);
  }
  ::signal(SIGPIPE, old);
  ::close(fds[1]);
}

}  // namespace
}  // namespace etl::parquet
