// The simulator's command line: every flag, its default and its range, in one place.
//
// `animals-sim --help` prints the same list. Flags take their value as the next argument or after
// '=' (`--port 0`, `--port=0`); the last occurrence of a flag wins.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "etl/core/aliases.hpp"
#include "etl/sim/capacity.hpp"
#include "etl/sim/chaos.hpp"

namespace etl {

struct sim_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3123;          // 0: the system picks a free port
  unsigned threads = 0;               // 0: hardware concurrency
  std::optional<std::int64_t> pages;  // unset: 500..600 drawn from the seed
  std::optional<std::uint64_t> seed;  // unset: a random seed, logged at start
  sim_chaos_settings chaos;
  bool no_post_pause = false;  // POSTs never pause (they still get the 5xx chaos)
  bool verify = false;         // a repeated or unknown id makes the whole POST answer 500
  std::chrono::seconds keep_alive_timeout{5};   // idle connections close after this (uvicorn's 5 s)
  std::chrono::milliseconds trickle_delay{25};  // between the chunks of a trickled answer
  unsigned repeat_ids_percent = 0;              // listing pages that repeat an id (see sim_dataset)
  std::chrono::milliseconds post_delay{0};      // every POST to home waits this long first
  std::chrono::milliseconds get_delay{0};       // every listing and detail GET waits this long
  // The first N POSTs to home answer 503 with `Retry-After: 2` at once, unhandled: a home that
  // turns batches away, so a test can act while the client waits to retry.
  std::uint64_t refuse_posts = 0;
  // A capacity-bound upstream (capacity.hpp): --capacity-slots, --request-cost-us and
  // --overload-cost-us. Off (0 slots) by default.
  sim_capacity_settings capacity;
  std::string log_level = "info";
  bool help = false;
};

// Parses the arguments after the program name. Fails with errc::invalid_config for an unknown
// flag, a missing value, a value that is not a number or is out of range, pause-min above
// pause-max, fault percentages adding up to more than 100, or a request or overload cost
// without --capacity-slots; `why` then names the flag and the
// problem.
result<sim_options> parse_sim_options(std::span<const std::string_view> args,
                                      std::string* why = nullptr);

// The --help text: every flag with its default.
std::string sim_usage();

}  // namespace etl
