// Micro benchmarks of the animal model on the per-animal hot path: a detail body parsed and
// validated, transformed, and serialized into a POST body of 100, plus each step alone.
//
// Items are animals (timestamps for the formatting benches). Run with --benchmark_min_time=...
// for steadier figures.
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "etl/animal/home_payload.hpp"
#include "etl/animal/parse.hpp"
#include "etl/animal/transform.hpp"

namespace {

constexpr const char* names[] = {"Chough", "Falcon", "Jackal", "Ibis",    "Zebra",
                                 "Marten", "Trout",  "Wren",   "Narwhal", "Bearded Dragon"};

// 100 bodies shaped like the source's: 0 to 5 friends, about one in six with a born_at.
std::vector<std::string> detail_bodies() {
  std::vector<std::string> bodies;
  for (int i = 0; i < static_cast<int>(etl::home_batch_max); ++i) {
    std::string friends;
    for (int f = 0; f < i % 6; ++f) {
      friends += (f == 0 ? "" : ",");
      friends += names[(i + f * 3) % 10];
    }
    const std::string born_at =
        i % 6 == 0 ? std::to_string(536457600000 + std::int64_t{i} * 9'876'543'211) : "null";
    bodies.push_back(fmt::format(R"({{"id": {}, "name": "{}", "born_at": {}, "friends": "{}"}})",
                                 2500 + i, names[i % 10], born_at, friends));
  }
  return bodies;
}

std::vector<etl::home_animal> home_batch() {
  std::vector<etl::home_animal> batch;
  for (const std::string& body : detail_bodies()) {
    batch.push_back(etl::to_home(etl::parse_detail(body).value()));
  }
  return batch;
}

void bm_detail_to_post_body(benchmark::State& state) {
  const std::vector<std::string> bodies = detail_bodies();
  std::vector<etl::home_animal> batch;
  batch.reserve(bodies.size());
  for (auto _ : state) {
    batch.clear();
    for (const std::string& body : bodies) {
      auto detail = etl::parse_detail(body);
      if (!detail) {
        state.SkipWithError("a benchmark body was rejected");
        return;
      }
      batch.push_back(etl::to_home(std::move(*detail)));
    }
    std::string post_body = etl::serialize_home_batch(batch);
    benchmark::DoNotOptimize(post_body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(bodies.size()));
}
BENCHMARK(bm_detail_to_post_body);

void bm_parse_detail(benchmark::State& state) {
  const std::vector<std::string> bodies = detail_bodies();
  std::size_t bytes = 0;
  for (const std::string& body : bodies) {
    bytes += body.size();
  }
  for (auto _ : state) {
    for (const std::string& body : bodies) {
      auto detail = etl::parse_detail(body);
      benchmark::DoNotOptimize(detail);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(bodies.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(bm_parse_detail);

void bm_parse_listing_page(benchmark::State& state) {
  std::string body = R"({"page": 3, "total_pages": 541, "items": [)";
  for (int i = 0; i < 10; ++i) {
    body += fmt::format(R"({}{{"id": {}, "name": "{}", "born_at": {}}})", i == 0 ? "" : ", ",
                        20 + i, names[i], i % 6 == 0 ? "1484872785241" : "null");
  }
  body += "]}";
  for (auto _ : state) {
    auto page = etl::parse_listing_page(body);
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(bm_parse_listing_page);

void bm_to_home(benchmark::State& state) {
  const etl::animal_detail detail{2517, "Chough", std::nullopt, "Falcon,Jackal,Ibis,Zebra,Marten"};
  for (auto _ : state) {
    auto animal = etl::to_home(detail);
    benchmark::DoNotOptimize(animal);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_to_home);

void bm_format_iso8601_ms(benchmark::State& state) {
  std::int64_t ms = 536457600000;
  for (auto _ : state) {
    std::string text = etl::format_iso8601_ms(ms);
    benchmark::DoNotOptimize(text.data());
    ms += 987'654'321;
    if (ms > 1'700'000'000'000) {
      ms = 536457600000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_format_iso8601_ms);

void bm_write_iso8601_ms(benchmark::State& state) {
  std::array<char, etl::iso8601_ms_length> buffer;
  std::int64_t ms = 536457600000;
  for (auto _ : state) {
    etl::write_iso8601_ms(ms, buffer);
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
    ms += 987'654'321;
    if (ms > 1'700'000'000'000) {
      ms = 536457600000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_write_iso8601_ms);

void bm_serialize_home_batch(benchmark::State& state) {
  const std::vector<etl::home_animal> batch = home_batch();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string body = etl::serialize_home_batch(batch);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(bm_serialize_home_batch);

}  // namespace

BENCHMARK_MAIN();
