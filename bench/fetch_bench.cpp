// fetch_bench: fetches animal details from an animals API with the project's HTTP client engine
// and prints the throughput and the engine's counters. Used by bench/fetch_vs_wrk.sh (beside
// wrk, at 0% chaos) and bench/hedging.sh (at 2% chaos, with and without hedging).
//
//   fetch_bench --url http://127.0.0.1:3123 --requests 20000 --concurrency 64 [--no-hedge]
//               [--threads 2] [--max-in-flight N [--adaptive]]
//
// With --threads 1 the client runs requests in their callers' coroutines, as a worker process
// with one event-loop thread does (http_client_options::single_threaded).
//
// --max-in-flight sets the client's limit as a worker's ETL_CONCURRENCY does; --adaptive lets
// it move as ETL_ADAPTIVE_CONCURRENCY does (the final limit is printed).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/cfg/env.h>

#include "etl/http/client.hpp"

namespace {

using namespace etl;

struct bench_args {
  std::string url = "http://127.0.0.1:3123";
  int requests = 10'000;
  int concurrency = 64;
  int threads = 2;
  int first_id = 0;
  bool hedge = true;
  int max_in_flight = 0;
  bool adaptive = false;
};

bench_args parse(int argc, char** argv) {
  bench_args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view f = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fetch_bench: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (f == "--url")
      a.url = next();
    else if (f == "--requests")
      a.requests = std::stoi(next());
    else if (f == "--concurrency")
      a.concurrency = std::stoi(next());
    else if (f == "--threads")
      a.threads = std::stoi(next());
    else if (f == "--first-id")
      a.first_id = std::stoi(next());
    else if (f == "--no-hedge")
      a.hedge = false;
    else if (f == "--max-in-flight")
      a.max_in_flight = std::stoi(next());
    else if (f == "--adaptive")
      a.adaptive = true;
    else {
      std::fprintf(stderr,
                   "usage: fetch_bench --url URL --requests N --concurrency C [--threads T] "
                   "[--first-id I] [--no-hedge] [--max-in-flight N [--adaptive]]\n");
      std::exit(2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug shows retries and hedges
  const auto args = parse(argc, argv);
  net::thread_pool pool(static_cast<std::size_t>(args.threads));
  http_client_options opts;
  opts.hedge = args.hedge;
  opts.max_connections = static_cast<std::size_t>(args.concurrency) * 2;
  opts.max_in_flight = static_cast<std::size_t>(args.max_in_flight);
  opts.adaptive_in_flight = args.adaptive;
  opts.single_threaded = args.threads == 1;  // as a worker process with one event-loop thread
  http_client client(pool.get_executor(), args.url, opts);

  std::atomic<int> next{0}, ok{0}, failed{0}, slow{0};
  std::atomic<std::int64_t> worst_ms{0};
  const auto started = std::chrono::steady_clock::now();
  for (int w = 0; w < args.concurrency; ++w) {
    net::co_spawn(
        pool.get_executor(),
        [&]() -> net::awaitable<void> {
          for (int i = next++; i < args.requests; i = next++) {
            const auto t0 = std::chrono::steady_clock::now();
            auto r =
                co_await client.get("/animals/v1/animals/" + std::to_string(args.first_id + i));
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count();
            if (ms > 1000) {
              ++slow;
              std::fprintf(stderr, "slow: id %d took %lld ms (attempts %d, hedges %d)\n", i,
                           static_cast<long long>(ms), r ? r->attempts : -1, r ? r->hedges : -1);
            }
            for (auto seen = worst_ms.load();
                 ms > seen && !worst_ms.compare_exchange_weak(seen, ms);) {
            }
            (r && r->status == 200 ? ok : failed)++;
          }
        },
        [](std::exception_ptr e) {
          if (e)
            std::rethrow_exception(e);
        });
  }
  pool.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& m = client.metrics();
  std::printf(
      "requests %d ok %d failed %d seconds %.3f requests_per_second %.0f attempts %llu "
      "retries %llu hedges_sent %llu hedges_won %llu connections_opened %llu slowest_ms %lld "
      "over_1s %d in_flight_limit %llu\n",
      args.requests, ok.load(), failed.load(), secs, args.requests / secs,
      static_cast<unsigned long long>(m.attempts.load()),
      static_cast<unsigned long long>(m.retries_total()),
      static_cast<unsigned long long>(m.hedges_sent.load()),
      static_cast<unsigned long long>(m.hedges_won.load()),
      static_cast<unsigned long long>(m.connections_opened.load()),
      static_cast<long long>(worst_ms.load()), slow.load(),
      static_cast<unsigned long long>(m.in_flight_limit.load()));
  return failed.load() == 0 ? 0 : 1;
}
