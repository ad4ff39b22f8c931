// Peak RSS of writing N launches-like rows as Parquet (bench/parquet_launches.hpp): shows that
// the writer's memory is bounded by its row-group budget, not by the row count.
//   parquet_rss ROWS [uncompressed|snappy|zstd] [ROW_GROUP_MIB] [FILE]
// Prints rows, file bytes, seconds and ru_maxrss in KiB.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "etl/parquet/file_writer.hpp"
#include "parquet_launches.hpp"

int main(int argc, char** argv) {
  using namespace etl;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: parquet_rss ROWS [uncompressed|snappy|zstd] [ROW_GROUP_MIB] [FILE]\n");
    return 2;
  }
  const auto rows = std::strtoull(argv[1], nullptr, 10);
  const std::string codec_name = argc > 2 ? argv[2] : "snappy";
  parquet::writer_options o;
  o.compression = codec_name == "zstd"           ? parquet::codec::zstd
                  : codec_name == "uncompressed" ? parquet::codec::uncompressed
                                                 : parquet::codec::snappy;
  if (argc > 3)
    o.row_group_bytes = std::strtoull(argv[3], nullptr, 10) << 20;
  const std::filesystem::path path =
      argc > 4 ? std::filesystem::path(argv[4])
               : std::filesystem::temp_directory_path() /
                     ("etl-parquet-rss-" + std::to_string(::getpid()) + ".parquet");
  const auto start = std::chrono::steady_clock::now();
  auto w = parquet::file_writer::create(path, bench::launches_schema(), o);
  if (!w) {
    std::fprintf(stderr, "parquet_rss: %s\n", w.error().message().c_str());
    return 1;
  }
  bench::launch_rows gen;
  for (std::uint64_t i = 0; i < rows; ++i) {
    if (auto ec = w->write_row(gen.row(i))) {
      std::fprintf(stderr, "parquet_rss: row %llu: %s\n", static_cast<unsigned long long>(i),
                   ec.message().c_str());
      return 1;
    }
  }
  if (auto ec = w->close()) {
    std::fprintf(stderr, "parquet_rss: close: %s\n", ec.message().c_str());
    return 1;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("rows=%llu codec=%s row_group_mib=%zu file_bytes=%llu seconds=%.2f max_rss_kib=%ld\n",
              static_cast<unsigned long long>(rows), codec_name.c_str(), o.row_group_bytes >> 20,
              static_cast<unsigned long long>(w->bytes_written()), took.count(), ru.ru_maxrss);
  if (argc <= 4)  // a file of our own naming, not one the caller asked for
    std::filesystem::remove(path);
}
