// Writing a launches-like table (bench/parquet_launches.hpp) as Parquet with each codec, beside
// writing the same rows as CSV (RFC 4180): rows/s and MB/s of file written. Figures and the
// command are in bench/README.md ("Parquet writer").
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include "etl/parquet/file_writer.hpp"
#include "parquet_launches.hpp"

namespace {

namespace fs = std::filesystem;
using namespace etl;

fs::path scratch_file(const char* ext) {
  return fs::temp_directory_path() / ("etl-parquet-bench-" + std::to_string(::getpid()) + ext);
}

void parquet_write(benchmark::State& state, parquet::codec c) {
  const auto rows = static_cast<std::uint64_t>(state.range(0));
  const auto path = scratch_file(".parquet");
  bench::launch_rows gen;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    parquet::writer_options o;
    o.compression = c;
    auto w = parquet::file_writer::create(path, bench::launches_schema(), o);
    if (!w) {
      state.SkipWithError(w.error().message().c_str());
      return;
    }
    for (std::uint64_t i = 0; i < rows; ++i) {
      if (auto ec = w->write_row(gen.row(i))) {
        state.SkipWithError(ec.message().c_str());
        return;
      }
    }
    if (auto ec = w->close()) {
      state.SkipWithError(ec.message().c_str());
      return;
    }
    bytes += w->bytes_written();
  }
  fs::remove(path);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["file_MB"] = static_cast<double>(bytes) / state.iterations() / 1e6;
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; a null is
// an empty field; timestamps and dates in ISO 8601 (what a CSV reader can parse).
void csv_field(std::string& out, const parquet::value& v) {
  char buf[64];
  if (const auto* s = std::get_if<std::string_view>(&v)) {
    if (s->find_first_of(",\"\r\n") == std::string_view::npos) {
      out += *s;
    } else {
      out += '"';
      for (char ch : *s) {
        if (ch == '"')
          out += '"';
        out += ch;
      }
      out += '"';
    }
  } else if (const auto* i = std::get_if<std::int32_t>(&v)) {
    out.append(buf, std::to_chars(buf, buf + sizeof buf, *i).ptr);
  } else if (const auto* l = std::get_if<std::int64_t>(&v)) {
    out.append(buf, std::to_chars(buf, buf + sizeof buf, *l).ptr);
  } else if (const auto* d = std::get_if<double>(&v)) {
    out.append(buf, std::to_chars(buf, buf + sizeof buf, *d).ptr);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else if (const auto* t = std::get_if<parquet::timestamp>(&v)) {
    const std::time_t secs = t->micros / 1'000'000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    const auto n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec, static_cast<int>(t->micros % 1'000'000));
    out.append(buf, static_cast<std::size_t>(n));
  } else if (const auto* dt = std::get_if<parquet::date>(&v)) {
    const std::time_t secs = static_cast<std::time_t>(dt->days) * 86400;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    const auto n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900,
                                 tm.tm_mon + 1, tm.tm_mday);
    out.append(buf, static_cast<std::size_t>(n));
  }
}

void BM_csv(benchmark::State& state) {
  const auto rows = static_cast<std::uint64_t>(state.range(0));
  const auto path = scratch_file(".csv");
  bench::launch_rows gen;
  const auto schema = bench::launches_schema();
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::string line;
    for (std::size_t c = 0; c < schema.columns.size(); ++c) {
      line += (c ? "," : "") + schema.columns[c].name;
    }
    line += "\r\n";
    for (std::uint64_t i = 0; i < rows; ++i) {
      const auto& row = gen.row(i);
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c)
          line += ',';
        csv_field(line, row[c]);
      }
      line += "\r\n";
      if (line.size() > (1 << 20)) {
        std::fwrite(line.data(), 1, line.size(), f);
        bytes += line.size();
        line.clear();
      }
    }
    std::fwrite(line.data(), 1, line.size(), f);
    bytes += line.size();
    std::fclose(f);
  }
  fs::remove(path);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["file_MB"] = static_cast<double>(bytes) / state.iterations() / 1e6;
}

void BM_parquet_uncompressed(benchmark::State& s) {
  parquet_write(s, parquet::codec::uncompressed);
}
void BM_parquet_snappy(benchmark::State& s) {
  parquet_write(s, parquet::codec::snappy);
}
void BM_parquet_zstd(benchmark::State& s) {
  parquet_write(s, parquet::codec::zstd);
}

BENCHMARK(BM_parquet_uncompressed)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parquet_snappy)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parquet_zstd)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_csv)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
