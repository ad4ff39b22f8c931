// Round trips through two independent readers, DuckDB (@duckdb/node-api) and hyparquet (pure
// JavaScript): every value of every type read back equals what was written, with nulls, empty
// and non-ASCII strings, zero, one and a million rows, each codec; parquet_metadata() shows the
// statistics; and files damaged on purpose are refused by both readers.
//
// tests/parquet/read.mjs prints canonical cells (see there); this file builds the same cells from
// the values it wrote and compares them row by row.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "etl/parquet/file_writer.hpp"
#include "etl/test/child_process.hpp"
#include "etl/test/test_paths.hpp"

namespace etl::parquet {
namespace {

namespace fs = std::filesystem;
namespace js = boost::json;
using namespace std::chrono_literals;

const fs::path readers_dir = fs::path(etl::test::source_dir) / "tests" / "parquet";

// What a reader printed: its exit code, stderr, the column header and the rows (NDJSON lines).
struct reading {
  int exit_code = -1;
  std::string error;
  js::array columns;
  std::vector<std::string> lines;  // one a row, not parsed yet (a million of them at most)
};

reading read_with(const std::string& mode, const fs::path& file) {
  reading r;
  const auto err = file.string() + "." + mode + ".stderr";
  fs::remove(err);
  etl::test::child_options o;
  o.stderr_file = err;
  // env finds node on PATH; 127 when there is none.
  auto child = etl::test::child_process::start(
      "/usr/bin/env", {"node", (readers_dir / "read.mjs").string(), mode, file.string()}, o);
  if (!child) {
    r.error = "cannot start node: " + child.error().message();
    return r;
  }
  child->read_until_eof(240s);
  r.exit_code = child->wait(10s).value_or(-1);
  std::ifstream e(err);
  r.error.assign(std::istreambuf_iterator<char>(e), {});
  const std::string& out = child->output();
  std::size_t pos = 0;
  bool first = true;
  while (pos < out.size()) {
    auto nl = out.find('\n', pos);
    if (nl == std::string::npos)
      nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    pos = nl + 1;
    if (first) {
      if (mode != "metadata")
        r.columns = js::parse(line).as_object().at("columns").as_array();
      else
        r.lines.push_back(std::move(line));
      first = false;
    } else if (line.starts_with('[') || mode == "metadata") {
      r.lines.push_back(std::move(line));
    }
  }
  return r;
}

std::string hex_bits(double d) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(d)));
  return std::string("f:") + buf;
}

// The canonical cell of read.mjs for a value written to a column of type `t`.
js::value canonical(column_type t, const value& v) {
  if (std::holds_alternative<std::monostate>(v))
    return nullptr;
  switch (t) {
    case column_type::int32: {
      const auto i = std::holds_alternative<std::int32_t>(v) ? std::get<std::int32_t>(v)
                                                             : std::get<std::int64_t>(v);
      return js::string(hex_bits(static_cast<double>(i)));  // JS numbers: INT32 fits exactly
    }
    case column_type::int64: {
      const auto i = std::holds_alternative<std::int32_t>(v) ? std::get<std::int32_t>(v)
                                                             : std::get<std::int64_t>(v);
      return js::string("i:" + std::to_string(i));
    }
    case column_type::float64:
      return js::string(hex_bits(std::get<double>(v)));
    case column_type::boolean:
      return std::get<bool>(v);
    case column_type::string:
      return js::string("s:" + std::string(std::get<std::string_view>(v)));
    case column_type::date:
      return js::string("date:" + std::to_string(std::get<date>(v).days));
    case column_type::timestamp:
      return js::string("ts:" + std::to_string(std::get<timestamp>(v).micros));
  }
  return nullptr;
}

// A table whose rows come from a function, so that a million of them need no memory.
struct table {
  schema s;
  std::size_t rows = 0;
  std::function<std::vector<value>(std::size_t)> row;
};

void write(const fs::path& file, const table& t, writer_options o) {
  auto w = file_writer::create(file, t.s, std::move(o));
  ASSERT_TRUE(w) << w.error().message();
  for (std::size_t i = 0; i < t.rows; ++i) {
    const auto r = t.row(i);
    ASSERT_FALSE(w->write_row(r)) << "row " << i;
  }
  ASSERT_FALSE(w->close());
}

// Reads `file` with both readers and checks every value of every row.
void expect_round_trip(const fs::path& file, const table& t) {
  for (const std::string mode : {"duckdb", "hyparquet"}) {
    SCOPED_TRACE(mode);
    const auto r = read_with(mode, file);
    ASSERT_EQ(r.exit_code, 0) << r.error;
    ASSERT_EQ(r.columns.size(), t.s.columns.size());
    for (std::size_t c = 0; c < t.s.columns.size(); ++c) {
      EXPECT_EQ(std::string(r.columns[c].at("name").as_string()), t.s.columns[c].name);
    }
    ASSERT_EQ(r.lines.size(), t.rows);
    int mismatches = 0;
    for (std::size_t i = 0; i < t.rows && mismatches < 5; ++i) {
      const auto got = js::parse(r.lines[i]);
      const auto row = t.row(i);
      js::array want;
      for (std::size_t c = 0; c < row.size(); ++c) {
        want.push_back(canonical(t.s.columns[c].type, row[c]));
      }
      if (got != js::value(want)) {
        ADD_FAILURE() << "row " << i << ": read " << r.lines[i] << ", wrote "
                      << js::serialize(want);
        ++mismatches;
      }
    }
  }
}

class parquet_readers : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(readers_dir / "node_modules" / "@duckdb" / "node-api") &&
                fs::exists(readers_dir / "node_modules" / "hyparquet"))
        << "tests/parquet/node_modules is missing: run `npm ci --prefix tests/parquet` "
           "(scripts/test.sh does it)";
    // A parameterized test's name holds a '/': one folder per test, not a nested one.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ = fs::temp_directory_path() /
           ("etl-parquet-readers-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(dir_);
  }

  fs::path dir_;
};

const std::vector<std::string_view>& texts() {
  static const std::vector<std::string_view> v{
      "",
      "a",
      "plain ascii",
      "h\xC3\xA9llo w\xC3\xB6rld",             // 2-byte UTF-8
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",  // 3-byte: Japanese
      "\xF0\x9F\x8E\x89 party",                // 4-byte: an emoji
      "\xF0\x9D\x84\x9E clef",                 // 4-byte: U+1D11E
      "quote \" backslash \\ tab \t newline \n end",
      "\x01 control and NUL-free",
      "z",
  };
  return v;
}

// Every column type, required and optional, with edge values and nulls in a pattern per column.
table all_types(std::size_t rows) {
  table t;
  t.s.columns = {
      {"id", column_type::int32, repetition::required},
      {"i32", column_type::int32, repetition::optional},
      {"i64", column_type::int64, repetition::optional},
      {"f64", column_type::float64, repetition::optional},
      {"flag", column_type::boolean, repetition::optional},
      {"text", column_type::string, repetition::optional},
      {"day", column_type::date, repetition::optional},
      {"at", column_type::timestamp, repetition::optional},
      {"name", column_type::string, repetition::required},
      {"n64", column_type::int64, repetition::required},
  };
  t.rows = rows;
  t.row = [](std::size_t i) {
    static const std::int32_t i32s[] = {std::numeric_limits<std::int32_t>::min(), -1, 0, 1, 42,
                                        std::numeric_limits<std::int32_t>::max()};
    static const std::int64_t i64s[] = {std::numeric_limits<std::int64_t>::min(),
                                        -(std::int64_t{1} << 53) - 1,
                                        -1,
                                        0,
                                        (std::int64_t{1} << 53) + 1,
                                        std::numeric_limits<std::int64_t>::max()};
    static const double f64s[] = {0.0,
                                  -0.0,
                                  1.5,
                                  0.1,
                                  -1e308,
                                  std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::infinity(),
                                  -std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::quiet_NaN()};
    static const std::int32_t days[] = {-25567, -1, 0, 19000, 2932896};  // 1900 .. 9999-12-31
    static const std::int64_t micros[] = {-2208988800000000LL, -1, 0, 1700000000123456LL,
                                          253402300799999999LL};
    const auto k = [&](std::size_t n) { return (i * 7 + n) % 11; };
    auto maybe = [&](std::size_t n, value v) { return i % (n + 2) == 1 ? value{} : v; };
    return std::vector<value>{
        static_cast<std::int32_t>(i),
        maybe(1, i32s[k(1) % std::size(i32s)]),
        maybe(2, i64s[k(2) % std::size(i64s)]),
        maybe(3, f64s[k(3) % std::size(f64s)]),
        maybe(4, k(4) % 3 == 0),
        maybe(5, texts()[k(5) % texts().size()]),
        maybe(6, date{days[k(6) % std::size(days)]}),
        maybe(7, timestamp{micros[k(7) % std::size(micros)]}),
        texts()[i % texts().size()],
        static_cast<std::int64_t>(i) * 1'000'003,
    };
  };
  return t;
}

// The DuckDB types the logical types must come back as.
TEST_F(parquet_readers, duckdb_reads_each_logical_type) {
  const auto t = all_types(3);
  write(dir_ / "types.parquet", t, {});
  const auto r = read_with("duckdb", dir_ / "types.parquet");
  ASSERT_EQ(r.exit_code, 0) << r.error;
  std::vector<std::string> types;
  for (const auto& c : r.columns)
    types.emplace_back(c.at("type").as_string());
  EXPECT_EQ(types, (std::vector<std::string>{"INTEGER", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN",
                                             "VARCHAR", "DATE", "TIMESTAMP WITH TIME ZONE",
                                             "VARCHAR", "BIGINT"}));
}

class parquet_readers_codec : public parquet_readers,
                              public ::testing::WithParamInterface<codec> {};

TEST_P(parquet_readers_codec, every_value_of_every_type_round_trips) {
  // Small pages and row groups: many pages a chunk, several row groups, a last partial one.
  writer_options o;
  o.compression = GetParam();
  o.page_bytes = 2048;
  o.row_group_rows = 700;
  const auto t = all_types(2000);
  write(dir_ / "all.parquet", t, o);
  expect_round_trip(dir_ / "all.parquet", t);

  const auto m = read_with("metadata", dir_ / "all.parquet");
  ASSERT_EQ(m.exit_code, 0) << m.error;
  ASSERT_EQ(m.lines.size(), 1u);
  const auto chunks = js::parse(m.lines[0]).as_array();
  ASSERT_EQ(chunks.size(), 3 * t.s.columns.size()) << "row groups of 700, 700 and 600 rows";
  const char* names[] = {"UNCOMPRESSED", "SNAPPY", "ZSTD"};
  for (const auto& c : chunks) {
    EXPECT_EQ(c.at("compression").as_string(), names[static_cast<int>(GetParam())]);
  }
}

std::string codec_name(const ::testing::TestParamInfo<codec>& info) {
  switch (info.param) {
    case codec::uncompressed:
      return "uncompressed";
    case codec::snappy:
      return "snappy";
    case codec::zstd:
      return "zstd";
  }
  return "unknown";
}

INSTANTIATE_TEST_SUITE_P(codecs, parquet_readers_codec,
                         ::testing::Values(codec::uncompressed, codec::snappy, codec::zstd),
                         codec_name);

TEST_F(parquet_readers, zero_rows) {
  const auto t = all_types(0);
  write(dir_ / "empty.parquet", t, {});
  expect_round_trip(dir_ / "empty.parquet", t);
}

TEST_F(parquet_readers, one_row) {
  const auto t = all_types(1);
  write(dir_ / "one.parquet", t, {});
  expect_round_trip(dir_ / "one.parquet", t);
}

TEST_F(parquet_readers, all_null_and_all_empty_columns) {
  table t;
  t.s.columns = {{"nothing", column_type::string, repetition::optional},
                 {"empty", column_type::string, repetition::required},
                 {"no_int", column_type::int64, repetition::optional}};
  t.rows = 50;
  t.row = [](std::size_t) { return std::vector<value>{value{}, std::string_view(""), value{}}; };
  write(dir_ / "nulls.parquet", t, {});
  expect_round_trip(dir_ / "nulls.parquet", t);
  const auto m = read_with("metadata", dir_ / "nulls.parquet");
  ASSERT_EQ(m.exit_code, 0) << m.error;
  const auto chunks = js::parse(m.lines.at(0)).as_array();
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(js::serialize(chunks[0].at("stats_null_count")), "\"50\"");
  EXPECT_TRUE(chunks[0].at("stats_min_value").is_null()) << "no min of nothing";
  EXPECT_EQ(js::serialize(chunks[1].at("stats_min_value")), "\"\"");
  EXPECT_EQ(js::serialize(chunks[1].at("stats_max_value")), "\"\"");
  EXPECT_EQ(js::serialize(chunks[1].at("stats_null_count")), "\"0\"");
}

TEST_F(parquet_readers, a_million_rows) {
  table t;
  t.s.columns = {{"id", column_type::int64, repetition::required},
                 {"label", column_type::string, repetition::optional}};
  t.rows = 1'000'000;
  static std::vector<std::string> labels;
  if (labels.empty()) {
    for (int i = 0; i < 1000; ++i)
      labels.push_back("label-" + std::to_string(i) + "-\xC3\xA9");
  }
  t.row = [](std::size_t i) {
    return std::vector<value>{static_cast<std::int64_t>(i) * 3 - 1'000'000,
                              i % 7 == 3 ? value{} : value{std::string_view(labels[i % 1000])}};
  };
  writer_options o;
  o.row_group_rows = 250'000;
  write(dir_ / "million.parquet", t, o);
  expect_round_trip(dir_ / "million.parquet", t);
  const auto m = read_with("metadata", dir_ / "million.parquet");
  ASSERT_EQ(m.exit_code, 0) << m.error;
  const auto chunks = js::parse(m.lines.at(0)).as_array();
  EXPECT_EQ(chunks.size(), 8u) << "4 row groups of 250,000 rows, 2 columns";
}

// Column batches through a descriptor the caller owns (the files sink's way: temp file, then
// fsync and rename by the caller) read back the same as rows.
TEST_F(parquet_readers, column_batches_to_a_caller_owned_descriptor) {
  const auto t = all_types(1500);
  const auto path = dir_ / "batches.parquet";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  writer_options o;
  o.compression = codec::zstd;
  o.row_group_rows = 1000;
  auto w = file_writer::adopt_fd(fd, t.s, o);
  ASSERT_TRUE(w) << w.error().message();
  // Batches of 400 rows, column by column.
  for (std::size_t start = 0; start < t.rows; start += 400) {
    const auto n = std::min<std::size_t>(400, t.rows - start);
    std::vector<std::vector<value>> columns(t.s.columns.size());
    for (std::size_t r = 0; r < n; ++r) {
      const auto row = t.row(start + r);
      for (std::size_t c = 0; c < row.size(); ++c)
        columns[c].push_back(row[c]);
    }
    std::vector<std::span<const value>> spans(columns.begin(), columns.end());
    ASSERT_FALSE(w->write_columns(spans)) << "batch at " << start;
  }
  ASSERT_FALSE(w->close());
  ASSERT_EQ(::fsync(fd), 0);
  ASSERT_EQ(::close(fd), 0);
  expect_round_trip(path, t);
}

// Statistics per row group through DuckDB's parquet_metadata(): signed order for integers,
// unsigned bytewise order for strings (where a signed one would put "é" before "a"), nulls.
TEST_F(parquet_readers, statistics_are_visible_in_parquet_metadata) {
  table t;
  t.s.columns = {{"n", column_type::int32, repetition::optional},
                 {"s", column_type::string, repetition::optional},
                 {"b", column_type::boolean, repetition::required},
                 {"big", column_type::int64, repetition::required}};
  static const std::vector<std::string_view> strings{
      "b", "\xC3\xA9t\xC3\xA9", "a", "\xF0\x9F\x8E\x89", "zz", ""};
  t.rows = 12;  // two row groups of 6
  t.row = [](std::size_t i) {
    const auto j = static_cast<std::int32_t>(i);
    return std::vector<value>{
        i == 2 ? value{} : value{(j % 2 ? -1 : 1) * j * 10},  // row group 0: -50 .. 40
        i >= 6 && i % 2 ? value{} : value{strings[i % 6]},
        i < 6,  // row group 0 all true, row group 1 all false
        static_cast<std::int64_t>(i) - 6,
    };
  };
  writer_options o;
  o.row_group_rows = 6;
  write(dir_ / "stats.parquet", t, o);
  expect_round_trip(dir_ / "stats.parquet", t);

  const auto m = read_with("metadata", dir_ / "stats.parquet");
  ASSERT_EQ(m.exit_code, 0) << m.error;
  const auto chunks = js::parse(m.lines.at(0)).as_array();
  ASSERT_EQ(chunks.size(), 8u);
  auto stat = [&](int rg, const char* column, const char* field) {
    for (const auto& c : chunks) {
      if (c.at("row_group_id").as_string() == std::to_string(rg) &&
          c.at("path_in_schema").as_string() == column) {
        return js::serialize(c.at(field));
      }
    }
    return std::string("missing");
  };
  EXPECT_EQ(stat(0, "n", "stats_min_value"), "\"-50\"");
  EXPECT_EQ(stat(0, "n", "stats_max_value"), "\"40\"");
  EXPECT_EQ(stat(0, "n", "stats_null_count"), "\"1\"");
  EXPECT_EQ(stat(1, "n", "stats_min_value"), "\"-110\"");
  EXPECT_EQ(stat(1, "n", "stats_max_value"), "\"100\"");
  EXPECT_EQ(stat(1, "n", "stats_null_count"), "\"0\"");
  EXPECT_EQ(stat(0, "s", "stats_min_value"), "\"\"");
  // Unsigned bytes: the emoji's 0xF0 sorts after "zz" (signed, it would be the smallest).
  EXPECT_EQ(stat(0, "s", "stats_max_value"), "\"\xF0\x9F\x8E\x89\"");
  EXPECT_EQ(stat(1, "s", "stats_min_value"), "\"a\"");  // rows 6, 8, 10: "b", "a", "zz"
  EXPECT_EQ(stat(1, "s", "stats_max_value"), "\"zz\"");
  EXPECT_EQ(stat(1, "s", "stats_null_count"), "\"3\"");
  EXPECT_EQ(stat(0, "b", "stats_min_value"), "\"true\"");
  EXPECT_EQ(stat(1, "b", "stats_max_value"), "\"false\"");
  EXPECT_EQ(stat(0, "big", "stats_min_value"), "\"-6\"");
  EXPECT_EQ(stat(1, "big", "stats_max_value"), "\"5\"");
  // The deprecated signed-order fields are left out: only min_value/max_value are written.
  EXPECT_EQ(stat(0, "s", "stats_min"), "null");
}

// Files damaged on purpose: both readers must refuse them, which shows they check what the
// other tests rely on them checking.
TEST_F(parquet_readers, damaged_files_are_refused) {
  const auto t = all_types(100);
  write(dir_ / "good.parquet", t, {});
  std::ifstream in(dir_ / "good.parquet", std::ios::binary);
  const std::string good{std::istreambuf_iterator<char>(in), {}};
  const auto* tail = reinterpret_cast<const unsigned char*>(good.data() + good.size() - 8);
  const std::size_t footer_len = tail[0] | tail[1] << 8 | tail[2] << 16 | tail[3] << 24;
  const std::size_t footer_start = good.size() - 8 - footer_len;

  struct damage {
    const char* name;
    std::string bytes;
  };
  std::vector<damage> cases;
  cases.push_back({"bad_trailing_magic", good.substr(0, good.size() - 1) + "2"});
  cases.push_back({"truncated_half", good.substr(0, good.size() / 2)});
  cases.push_back({"truncated_last_byte", good.substr(0, good.size() - 1)});
  std::string too_long = good;
  too_long[too_long.size() - 8] = static_cast<char>(0xFF);
  too_long[too_long.size() - 7] = static_cast<char>(0xFF);
  cases.push_back({"footer_length_past_the_start", too_long});
  std::string flipped_footer = good;
  flipped_footer[footer_start] = static_cast<char>(flipped_footer[footer_start] ^ 0xFF);
  cases.push_back({"flipped_first_footer_byte", flipped_footer});
  std::string flipped_page = good;
  flipped_page[4] = static_cast<char>(flipped_page[4] ^ 0xFF);  // the first page header
  cases.push_back({"flipped_first_page_header_byte", flipped_page});

  for (const auto& c : cases) {
    const auto path = dir_ / (std::string(c.name) + ".parquet");
    std::ofstream(path, std::ios::binary) << c.bytes;
    for (const std::string mode : {"duckdb", "hyparquet"}) {
      const auto r = read_with(mode, path);
      EXPECT_EQ(r.exit_code, 1) << c.name << " read by " << mode << ": " << r.lines.size()
                                << " rows, " << r.error;
      EXPECT_NE(r.error.find(mode + ":"), std::string::npos) << c.name << ": " << r.error;
    }
  }
  // The undamaged file reads, so the refusals above are the damage's doing.
  EXPECT_EQ(read_with("duckdb", dir_ / "good.parquet").exit_code, 0);
  EXPECT_EQ(read_with("hyparquet", dir_ / "good.parquet").exit_code, 0);
}

}  // namespace
}  // namespace etl::parquet
