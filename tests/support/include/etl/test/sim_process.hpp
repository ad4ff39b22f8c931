// A simulator as a test fixture: starts build/bin/animals-sim (or another simulator) on a free port
// and hands out its port, its base URL and its report. The process stops (SIGTERM, then SIGKILL)
// when the sim_process goes out of scope, also when a test fails.
//
//   auto sim = etl::test::sim_process::start({"--seed", "7", "--chaos-percent", "0"});
//   ASSERT_TRUE(sim) << sim.error().message();
//   auto report = sim->report();  // GET /sim/report, parsed
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "etl/core/aliases.hpp"
#include "etl/test/child_process.hpp"

namespace etl::test {

class sim_process {
 public:
  // Starts animals-sim with "--port 0" followed by `args` (a later --port wins) and waits up to
  // `timeout` for its "listening HOST:PORT" line. Fails with the start error (binary missing),
  // or errc::timeout when no line came in time (a bad flag makes the sim exit: its reason is on
  // the test's stderr); `why`, when given, receives a sentence saying which.
  static result<sim_process> start(const std::vector<std::string>& args = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                   std::string* why = nullptr);
  // The same for another simulator in build/bin ("spacex-sim", "randomuser-sim", ...): they all
  // print the same listening line and serve the same /sim/* endpoints.
  static result<sim_process> start_binary(
      std::string_view binary, const std::vector<std::string>& args = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(10), std::string* why = nullptr);

  std::uint16_t port() const noexcept { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:<port>"
  child_process& process() noexcept { return process_; }

  // GET /sim/report and /sim/config, parsed. Fail with the request's error, errc::http_status
  // for a status other than 200, errc::parse_error for a body that is not JSON.
  result<boost::json::value> report() const;
  result<boost::json::value> config() const;
  // POST /sim/reset: clears the received state and the counters. Fails as report() does.
  error_code reset() const;

 private:
  sim_process(child_process process, std::uint16_t port)
      : process_(std::move(process)), port_(port) {}

  child_process process_;
  std::uint16_t port_;
};

// The path of a binary the build puts in build/bin, e.g. bin_path("animals-sim").
std::string bin_path(std::string_view name);

}  // namespace etl::test
