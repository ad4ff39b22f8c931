// crunchbase-sim: the project's simulator of Crunchbase's organization search (API v4) as the
// crunchbase-orgs pipeline reads it: POST /api/v4/searches/organizations with a user key,
// field_ids, predicates, order, limit and keyset paging; the 200 calls/min limit; Basic keys.
// See docs/simulators.md.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "etl/sim/crunchbase_data.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {

struct crunchbase_options {
  sim_upstream_options common;
  std::size_t orgs = crunchbase_default_orgs;  // --orgs N
  std::string key = "test-key";                // --key: a key with every field
  std::string basic_key;                       // --basic-key: a Basic key ("" none)
  unsigned calls_per_minute = 200;             // --rate-limit: per key, then 429 (0: off)
  // --rate-window: the window of --rate-limit in seconds (60: the real per-minute quota; a test
  // shrinks it to see several windows in seconds).
  unsigned rate_window_seconds = 60;
};

inline constexpr std::uint16_t crunchbase_default_port = 3126;

// Parses crunchbase-sim's arguments; errors as parse_sim_upstream_flags.
result<crunchbase_options> parse_crunchbase_options(std::span<const std::string_view> args,
                                                    std::string* why = nullptr);
// crunchbase-sim --help.
std::string crunchbase_usage();

class crunchbase_sim : public sim_upstream {
 public:
  explicit crunchbase_sim(const crunchbase_options& options);

  // The organizations at the data's current time (the epoch plus the clock's offset); shared
  // and immutable, rebuilt only when the clock was moved.
  std::shared_ptr<const std::vector<crunchbase_org>> organizations() const;

 protected:
  // POST /api/v4/searches/organizations, GET /api/v4/autocompletes; anything else 404 with an
  // error array.
  sim_reply route(const sim_request& request) override;
  void config_extra(boost::json::object& config) const override;
  void report_extra(boost::json::object& report) const override;
  void reset_extra() override;

 private:
  sim_reply search(const sim_request& request, bool basic);
  sim_reply autocomplete(const sim_request& request);

  crunchbase_options options_;
  crunchbase_dataset data_;
  sim_window_limiter limiter_;
  mutable std::mutex mutex_;  // guards the cache and the call counts
  mutable std::chrono::milliseconds cached_offset_{-1};
  mutable std::shared_ptr<const std::vector<crunchbase_org>> cached_;
  std::map<std::int64_t, std::uint64_t> calls_per_minute_;  // minute -> calls answered or refused
  std::map<std::int64_t, std::uint64_t> calls_per_window_;  // the same per --rate-window
  std::uint64_t rate_limited_ = 0;
};

}  // namespace etl
