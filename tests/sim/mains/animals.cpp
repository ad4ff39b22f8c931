// animals-sim: the project's simulator of the animals API. See `animals-sim --help` and
// docs/animals-api.md. Prints "listening HOST:PORT" on stdout once ready; logs go to stderr.
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "etl/sim/options.hpp"
#include "etl/sim/routes.hpp"
#include "etl/sim/server.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string why;
  const auto options = etl::parse_sim_options(args, &why);
  if (!options) {
    std::cerr << "animals-sim: " << why << '\n';
    return 2;
  }
  if (options->help) {
    std::cout << etl::sim_usage();
    return 0;
  }

  // stdout carries the one "listening" line tests read; everything else goes to stderr.
  auto logger = spdlog::stderr_color_mt("animals-sim");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options->log_level));

  try {
    etl::sim_app app(*options);
    auto server = etl::sim_server::open(app);
    if (!server) {
      spdlog::error("cannot listen on {}:{}: {}", options->host, options->port,
                    server.error().message());
      return 1;
    }
    app.set_listening((*server)->port(), (*server)->threads());
    spdlog::info("seed {}{}, {} pages ({} animals), chaos {}/101, verify {}", app.seed(),
                 options->seed ? "" : " (random: pass --seed to repeat this run)",
                 app.data().total_pages(), app.data().total(), options->chaos.chaos_percent,
                 options->verify ? "on" : "off");
    std::printf("listening %s:%u\n", (*server)->host().c_str(),
                static_cast<unsigned>((*server)->port()));
    std::fflush(stdout);
    spdlog::info("{} threads; GET /sim/report for what was received", (*server)->threads());
    (*server)->run();
    spdlog::info("stopped; report {}", app.report().to_json());
  } catch (const std::exception& e) {
    spdlog::critical("animals-sim failed: {}", e.what());
    return 1;
  }
  return 0;
}
