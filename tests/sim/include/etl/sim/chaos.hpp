// The simulator's chaos and fault decisions: which requests fail, pause or get a broken answer.
//
// Every decision is a pure function of (seed, request number), so the n-th request subject to
// chaos meets the same fate in every run with the same seed, whatever the timing.
// Chaos follows the original: `random.randint(0, 100) < percent`, i.e. `percent` of 101 values
// (2 gives 2/101), then an even split between an immediate 5xx and a pause before handling.
// Faults are the simulator's own extras for GETs of listings and details, each with its own
// percentage of requests; they are exclusive (one draw decides among them).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace etl {

enum class sim_fault {
  none,
  malformed_json,  // 200 with a truncated JSON body
  wrong_types,     // 200 with one field of one record of the wrong JSON type
  missing_fields,  // 200 with one field of one record dropped
  html_error,      // 502 with an HTML body, as a proxy in front would answer
  reset,           // the connection is closed without an answer
  trickle,         // the answer is sent a few bytes at a time with small delays
  big_body,        // a 1 MiB body
};
inline constexpr std::size_t sim_fault_kinds = 7;  // the kinds above, none excluded

// "malformed_json", ...: the name used by the flags (with '-') and in the report.
std::string_view to_string(sim_fault fault) noexcept;

struct sim_chaos_settings {
  unsigned chaos_percent = 2;  // 0..100; 100 means every request (the only departure from n/101)
  unsigned pause_min_seconds = 5;
  unsigned pause_max_seconds = 15;
  // Percent of listing and detail GETs per fault kind, indexed by sim_fault - 1; sum <= 100.
  std::array<unsigned, sim_fault_kinds> fault_percent{};
};

struct sim_chaos_verdict {
  enum class kind { none, error, pause };
  kind what = kind::none;
  unsigned status = 0;  // for error: 500, 502, 503 or 504
  std::chrono::seconds pause{0};
};

class sim_chaos {
 public:
  // Precondition: the settings are in range (parse_sim_options checks them).
  sim_chaos(std::uint64_t seed, const sim_chaos_settings& settings) noexcept
      : seed_(seed), settings_(settings) {}

  const sim_chaos_settings& settings() const noexcept { return settings_; }

  // The chaos fate of the request with this number (numbers count requests subject to chaos).
  sim_chaos_verdict chaos_for(std::uint64_t request_no) const noexcept;

  // The fault of a listing or detail GET with this number (independent of its chaos draw).
  sim_fault fault_for(std::uint64_t request_no) const noexcept;

  // A further draw for the details of a fault (which record, which field, where to cut).
  std::uint64_t detail_draw(std::uint64_t request_no, std::uint64_t what) const noexcept;

 private:
  std::uint64_t seed_;
  sim_chaos_settings settings_;
};

}  // namespace etl
