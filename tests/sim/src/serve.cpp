// sim_serve: what every upstream simulator's main() does once its flags are parsed.
#include <cstdio>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "etl/sim/server.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {

int sim_serve(const std::function<std::unique_ptr<sim_upstream>()>& make,
              const std::string& log_level) {
  try {
    auto app = make();
    // stdout carries the one "listening" line tests read; everything else goes to stderr.
    spdlog::set_default_logger(spdlog::stderr_color_mt(app->name()));
    spdlog::set_level(spdlog::level::from_str(log_level));
    auto server = sim_server::open(*app);
    if (!server) {
      const auto settings = app->listen_settings();
      spdlog::error("cannot listen on {}:{}: {}", settings.host, settings.port,
                    server.error().message());
      return 1;
    }
    app->set_listening((*server)->port(), (*server)->threads());
    spdlog::info("config {}", app->config_json());
    std::printf("listening %s:%u\n", (*server)->host().c_str(),
                static_cast<unsigned>((*server)->port()));
    std::fflush(stdout);
    (*server)->run();
    spdlog::info("stopped");
  } catch (const std::exception& e) {
    spdlog::critical("simulator failed: {}", e.what());
    return 1;
  }
  return 0;
}

}  // namespace etl
