// spacex-sim: the project's simulator of the SpaceX API (v5 launches, v4 crew) as the
// spacex-launches and spacex-crew pipelines read it. See docs/simulators.md.
//
// The application (spacex_sim) is a sim_upstream: the shared chaos, faults, clock, report and
// /sim/* endpoints, plus the routes below, answered from a dataset generated at start.
#pragma once

#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "etl/sim/spacex_data.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {

struct spacex_options {
  sim_upstream_options common;
  std::size_t launches = spacex_default_launches;  // --launches N
  bool crew_quirks = false;                        // --crew-quirks
  bool stable_ties = false;  // --stable-ties: records tying on the sort keep natural order
  unsigned rate_limit = 0;   // --rate-limit N: requests per second per client, then 429 (0: off)
};

inline constexpr std::uint16_t spacex_default_port = 3124;

// Parses spacex-sim's arguments (the common flags and its own); errors as
// parse_sim_upstream_flags.
result<spacex_options> parse_spacex_options(std::span<const std::string_view> args,
                                            std::string* why = nullptr);
// spacex-sim --help.
std::string spacex_usage();

class spacex_sim : public sim_upstream {
 public:
  explicit spacex_sim(const spacex_options& options);

  const spacex_dataset& data() const noexcept { return data_; }

 protected:
  // POST /v5/launches/query, GET /v5/launches[/past|/upcoming|/latest|/next|/:id], the same
  // under /v4 (crew as ids), GET /v4/crew[/:id], POST /v4/crew/query; else 404.
  sim_reply route(const sim_request& request) override;
  void config_extra(boost::json::object& config) const override;
  void reset_extra() override;

 private:
  sim_reply answer(const sim_request& request, std::string body, unsigned max_age);
  sim_reply launches_route(const sim_request& request, std::string_view rest, bool v4);
  sim_reply crew_route(const sim_request& request, std::string_view rest);
  sim_reply query(const sim_request& request, const std::vector<boost::json::object>& records,
                  std::string_view model, bool v4);
  void served(const boost::json::object& record, std::string_view model);

  spacex_options options_;
  spacex_dataset data_;
  std::map<std::string, std::size_t, std::less<>> launch_index_;  // id -> launches position
  std::map<std::string, std::size_t, std::less<>> crew_index_;
  sim_window_limiter limiter_;
  std::mutex cache_mutex_;
  std::map<std::string, sim_clock::time_point> cache_;  // URL + body -> when first answered
};

}  // namespace etl
