// randomuser-sim: the project's simulator of randomuser.me 1.4 as the randomuser pipeline reads
// it: GET /api/ with results, page, seed, nat, inc/exc, noinfo; the per-client quota and its 429;
// outages. See docs/simulators.md.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "etl/sim/randomuser_data.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {

struct randomuser_options {
  sim_upstream_options common;
  std::uint64_t quota = 20'000;            // --quota: users per client and window, 0: off
  std::chrono::seconds quota_window{300};  // --quota-window: fixed windows of this length
  unsigned quota_status = 429;             // --quota-status: 429, or 503 as an older deployment
  unsigned outage_percent = 0;             // --outage-percent: answers replaced by the outage body
};

inline constexpr std::uint16_t randomuser_default_port = 3125;

// Parses randomuser-sim's arguments; errors as parse_sim_upstream_flags.
result<randomuser_options> parse_randomuser_options(std::span<const std::string_view> args,
                                                    std::string* why = nullptr);
// randomuser-sim --help.
std::string randomuser_usage();

class randomuser_sim : public sim_upstream {
 public:
  explicit randomuser_sim(const randomuser_options& options);

 protected:
  // GET /api/ and /api/1.0/ ... /api/1.4/ (the trailing '/' optional); other versions 404.
  sim_reply route(const sim_request& request) override;
  void config_extra(boost::json::object& config) const override;
  void report_extra(boost::json::object& report) const override;
  void reset_extra() override;

 private:
  randomuser_options options_;
  sim_window_limiter quota_;
  std::atomic<std::uint64_t> requests_{0};  // numbers the API requests for seeds and outages
  mutable std::mutex clients_mutex_;
  std::map<std::string, std::uint64_t> users_per_client_;  // since start or reset
};

}  // namespace etl
