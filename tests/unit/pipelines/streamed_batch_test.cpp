// A batch written page by page from its spool (streamed_batch) against the same batch held in
// memory: the same files byte for byte, the same checks, the same merges (the last of a key
// kept, at its last place, by the source's key and by each sink's), for records and child rows,
// keyed and partitioned sinks. And the two file pieces it stands on: a file published from
// appends, and a scratch file nobody sees.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "etl/core/durable_file.hpp"
#include "etl/pipelines/checks.hpp"
#include "etl/pipelines/file_sink.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "etl/pipelines/streamed_batch.hpp"

namespace etl {
namespace {

namespace fs = std::filesystem;
namespace js = boost::json;

const char* orders_spec = R"(name: orders
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:1"}
  path: /orders
  query: {page: "{page}"}
  records: items
  key: id
  paginator: {kind: page_number, total_pages: info.pages, page_size: 4}
transform:
  fields:
    id: {type: string}
    email: {type: string, nullable: true}
    city: {type: string}
    country: {type: string}
    total: {type: number}
  children:
    lines:
      from: lines
      parent: [id]
      index: line_no
      fields:
        sku: {type: string}
        qty: {type: int}
checks:
  - {kind: unique, field: email, blocking: false}
  - {kind: not_null, field: email, blocking: false}
sinks:
  - {kind: files, format: csv, folder: out/orders, file_name: "{task.id}/orders", key: [id]}
  - {kind: files, format: csv, folder: out/cities, file_name: "{task.id}/cities", key: [city],
     columns: [city, country], partition_by: country}
  - {kind: files, format: jsonl, folder: out/lines, from: lines, file_name: "{task.id}/lines",
     key: [sku]}
  - {kind: files, format: jsonl, folder: out/all, file_name: "{task.id}/all"}
)";

// Three pages: o1 and o2 come again on later pages (o1 changed), two orders share an email,
// two a city, and lines share skus across orders.
const char* pages[] = {
    R"([{"id":"o1","email":"a@x","city":"Oslo","country":"NO","total":1.5,
         "lines":[{"sku":"x","qty":1},{"sku":"y","qty":2}]},
        {"id":"o2","email":"b@x","city":"Bergen","country":"NO","total":2,
         "lines":[{"sku":"z","qty":3}]}])",
    R"([{"id":"o3","email":"a@x","city":"Oslo","country":"NO","total":3,
         "lines":[{"sku":"x","qty":4}]},
        {"id":"o1","email":"a@x","city":"Oslo","country":"NO","total":9.25,"lines":[]}])",
    R"([{"id":"o4","email":null,"city":"Paris, \"centre\"","country":"FR","total":4,
         "lines":[{"sku":"w","qty":5}]},
        {"id":"o2","email":"b@x","city":"Bergen","country":"NO","total":2,
         "lines":[{"sku":"z","qty":6}]}])",
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct typed_page {
  std::vector<typed_record> records;
  std::vector<std::vector<typed_record>> children;
};

typed_page type_page(const pipeline_spec& spec, const char* text) {
  typed_page out;
  out.children.resize(spec.children.size());
  const auto parsed = js::parse(text);
  for (const auto& raw : parsed.as_array()) {
    auto rows = type_rows(raw.as_object(), spec);
    EXPECT_TRUE(rows) << rows.error().describe();
    out.records.push_back(std::move(rows->record));
    for (std::size_t i = 0; i < rows->children.size(); ++i)
      out.children[i].insert(out.children[i].end(), rows->children[i].begin(),
                             rows->children[i].end());
  }
  return out;
}

class streamed_batch_test : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("streamed-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "stream");
    fs::create_directories(root_ / "memory");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  const batch_naming naming_{"t1", "20261207", 0, "2026-12-07"};
};

TEST_F(streamed_batch_test, writes_what_the_batch_held_in_memory_writes) {
  const auto spec = parse_pipeline_spec(orders_spec, "orders.yaml").value();
  ASSERT_TRUE(streamed_batch::suits(spec));

  auto stream = streamed_batch::open(spec, root_ / "stream");
  ASSERT_TRUE(stream) << stream.error().message();
  std::vector<typed_record> all;
  std::vector<std::vector<typed_record>> all_children(spec.children.size());
  for (const char* text : pages) {
    auto page = type_page(spec, text);
    // A double whose shortest text Boost.JSON 1.81 does not read back to the same bits (a
    // coordinate typed from text can be one): the spool must keep it exact.
    for (auto& r : page.records) {
      if (r.values[0] == "o4")
        r.values[4] = 3.6873099197983805;
    }
    all.insert(all.end(), page.records.begin(), page.records.end());
    for (std::size_t i = 0; i < page.children.size(); ++i)
      all_children[i].insert(all_children[i].end(), page.children[i].begin(),
                             page.children[i].end());
    ASSERT_FALSE(stream->add(page.records, page.children));
    EXPECT_TRUE(page.records.empty());
  }
  EXPECT_EQ(stream->listed(), 6);
  EXPECT_EQ(stream->kept(), 4);
  auto quality = stream->survey();
  ASSERT_TRUE(quality) << quality.error().message();
  auto streamed = stream->write(root_ / "stream", naming_);
  ASSERT_TRUE(streamed) << streamed.error().message();

  // The same batch held in memory, as pipeline_batch.cpp writes it.
  const auto merged = merge_by_key(spec.fields, std::span(&spec.source.key, 1), all);
  const auto expected_quality = check_batch(spec, merged);
  std::vector<output_file> held;
  for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
    const auto& sink = spec.sinks[i];
    const auto rows = sink.input == sink_input::child
                          ? std::span<const typed_record>(all_children[0])
                          : std::span<const typed_record>(merged);
    auto files = write_batch_files(root_ / "memory", sink, static_cast<int>(i),
                                   spec.fields_of(sink), rows, naming_);
    ASSERT_TRUE(files) << files.error().message();
    held.insert(held.end(), files->begin(), files->end());
  }

  EXPECT_EQ(js::serialize(quality->to_json()), js::serialize(expected_quality.to_json()));
  EXPECT_EQ(quality->records, 4);
  EXPECT_EQ(quality->checks[0].failing, 1);  // o3 repeats o1's email
  EXPECT_EQ(quality->checks[1].failing, 1);  // o4 has none
  ASSERT_EQ(streamed->size(), held.size());
  for (std::size_t i = 0; i < held.size(); ++i) {
    SCOPED_TRACE(held[i].path);
    EXPECT_EQ((*streamed)[i].path, held[i].path);
    EXPECT_EQ((*streamed)[i].sink, held[i].sink);
    EXPECT_EQ((*streamed)[i].partition, held[i].partition);
    EXPECT_EQ((*streamed)[i].rows, held[i].rows);
    EXPECT_EQ((*streamed)[i].bytes, held[i].bytes);
    EXPECT_EQ(read_all(root_ / "stream" / held[i].path), read_all(root_ / "memory" / held[i].path));
  }
  // And what that is: o1's last version, at its last place; Oslo once; sku x from o3.
  EXPECT_EQ(read_all(root_ / "stream/out/orders/t1/orders.csv"),
            "id,email,city,country,total\r\no3,a@x,Oslo,NO,3E0\r\no1,a@x,Oslo,NO,9.25E0\r\n"
            "o4,,\"Paris, \"\"centre\"\"\",FR,3.6873099197983805E0\r\no2,b@x,Bergen,NO,2E0\r\n");
  EXPECT_EQ(read_all(root_ / "stream/out/cities/country=NO/t1/cities.csv"),
            "city,country\r\nOslo,NO\r\nBergen,NO\r\n");
  EXPECT_EQ(read_all(root_ / "stream/out/lines/t1/lines.jsonl"),
            "{\"id\":\"o1\",\"line_no\":1,\"sku\":\"y\",\"qty\":2}\n"
            "{\"id\":\"o3\",\"line_no\":0,\"sku\":\"x\",\"qty\":4}\n"
            "{\"id\":\"o4\",\"line_no\":0,\"sku\":\"w\",\"qty\":5}\n"
            "{\"id\":\"o2\",\"line_no\":0,\"sku\":\"z\",\"qty\":6}\n");
  // The spool left nothing behind, and no temporary is left.
  for (const auto& e : fs::recursive_directory_iterator(root_ / "stream"))
    EXPECT_TRUE(e.is_directory() || e.path().extension() == ".csv" ||
                e.path().extension() == ".jsonl")
        << e.path();
}

TEST_F(streamed_batch_test, only_pipelines_whose_sinks_all_stream_use_it) {
  auto text = std::string(orders_spec);
  EXPECT_TRUE(streamed_batch::suits(parse_pipeline_spec(text, "orders.yaml").value()));
  const auto parquet =
      text.replace(text.find("format: jsonl, folder: out/all"), 13, "format: parquet");
  EXPECT_FALSE(streamed_batch::suits(parse_pipeline_spec(parquet, "orders.yaml").value()));
}

// A batch whose rows fall in more partitions than a process may hold files open: the sink keeps
// at most max_open_files open, closing and reopening the others' temporaries.
TEST_F(streamed_batch_test, a_batch_of_many_partitions_needs_few_descriptors) {
  const auto spec = parse_pipeline_spec(orders_spec, "orders.yaml").value();
  const auto& sink = spec.sinks[1];  // cities, partitioned by country
  std::vector<typed_record> rows;
  for (int i = 0; i < 300; ++i) {
    rows.push_back(
        {{js::value("o" + std::to_string(i)), nullptr, js::value("c" + std::to_string(i)),
          js::value("K" + std::to_string(i % 100)), js::value(1.0 * i)}});
  }
  // Room for the sink's max_open_files and a few more, not for a file per partition.
  std::size_t open_now = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd"))
    ++open_now;
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = open_now + file_sink_stream::max_open_files + 8;
  ASSERT_LT(tight.rlim_cur, open_now + 100);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  auto files = write_batch_files(root_ / "stream", sink, 1, spec.fields, rows, naming_);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 100u);
  for (const auto& f : *files) {
    ASSERT_EQ(f.rows, 3) << f.path;
    const auto k = f.partition.substr(std::string("country=K").size());
    const auto n = std::stoi(k);
    EXPECT_EQ(read_all(root_ / "stream" / f.path), "city,country\r\nc" + std::to_string(n) + ",K" +
                                                       k + "\r\nc" + std::to_string(n + 100) +
                                                       ",K" + k + "\r\nc" +
                                                       std::to_string(n + 200) + ",K" + k + "\r\n");
  }
}

TEST(durable_file_writer, publishes_what_was_appended_and_leaves_nothing_when_dropped) {
  const auto dir = fs::temp_directory_path() / ("durable-writer-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    auto w = durable_file_writer::create(dir, "a.csv");
    ASSERT_TRUE(w);
    ASSERT_FALSE(w->append("x,y\r\n"));
    ASSERT_FALSE(w->close_for_now());  // reopened by the next append
    EXPECT_FALSE(w->is_open());
    ASSERT_FALSE(w->append("1,2\r\n"));
    EXPECT_EQ(w->bytes(), 10u);
    EXPECT_FALSE(fs::exists(dir / "a.csv"));  // not before publish
    ASSERT_FALSE(w->publish());
  }
  EXPECT_EQ(read_all(dir / "a.csv"), "x,y\r\n1,2\r\n");
  {
    auto w = durable_file_writer::create(dir, "b.csv");
    ASSERT_TRUE(w);
    ASSERT_FALSE(w->append("never published"));
  }
  auto names = [&] {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
      out.push_back(e.path().filename().string());
    return out;
  };
  EXPECT_EQ(names(), std::vector<std::string>{"a.csv"});
  // A scratch file reads back what was written, and has no name while it is open.
  auto scratch = open_scratch_file(dir);
  ASSERT_TRUE(scratch);
  ASSERT_GE(std::fputs("spooled\n", scratch->get()), 0);
  std::rewind(scratch->get());
  char line[16] = {};
  ASSERT_NE(std::fgets(line, sizeof line, scratch->get()), nullptr);
  EXPECT_STREQ(line, "spooled\n");
  EXPECT_EQ(names(), std::vector<std::string>{"a.csv"});
  scratch->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace etl
