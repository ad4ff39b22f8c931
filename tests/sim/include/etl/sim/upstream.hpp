// What the simulators of the platform's further upstreams (spacex-sim, randomuser-sim,
// crunchbase-sim) share: the common flags, chaos admission, faults, a clock a test can move,
// a per-client fixed-window limiter, a report of what was served, and the /sim/* endpoints.
//
// Each upstream is a subclass answering its own API in route(); everything here behaves the same
// in all of them, so docs/simulators.md describes it once. animals-sim predates this and keeps
// its own options and report (its verify mode and home checks have no counterpart here), but
// shares the server, the service interface and the faults.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "etl/core/aliases.hpp"
#include "etl/sim/chaos.hpp"
#include "etl/sim/faults.hpp"
#include "etl/sim/service.hpp"

namespace etl {

// The flags every upstream simulator takes (see sim_upstream_usage()).
struct sim_upstream_options {
  sim_listen_settings listen;
  std::optional<std::uint64_t> seed;  // unset: a random seed, logged at start
  sim_chaos_settings chaos{.chaos_percent = 0};
  std::string log_level = "info";
  bool help = false;
};

// A flag only one simulator has: its name ("--launches"), whether it takes a value, and how to
// store the value: `store` returns "" when it is fine, else what it should have been ("a number
// 0..100000").
struct sim_extra_flag {
  std::string_view name;
  bool takes_value = true;
  std::function<std::string(std::string_view value)> store;
};

// Parses a whole decimal number in [min, max] into `out`; false (out untouched) otherwise.
bool sim_parse_number(std::string_view text, std::int64_t min, std::int64_t max,
                      std::int64_t& out) noexcept;

// A flag taking a whole number in [min, max] into `out` (which must outlive the parse);
// `expected` names the range for the error ("a launch count 0..1000000").
template <class T>
sim_extra_flag sim_number_flag(std::string_view name, std::int64_t min, std::int64_t max, T& out,
                               std::string_view expected) {
  return {name, true, [&out, min, max, expected](std::string_view value) -> std::string {
            std::int64_t n = 0;
            if (!sim_parse_number(value, min, max, n)) {
              return std::string(expected);
            }
            out = static_cast<T>(n);
            return {};
          }};
}

// A flag without a value that sets `out`.
inline sim_extra_flag sim_switch_flag(std::string_view name, bool& out) {
  return {name, false, [&out](std::string_view) {
            out = true;
            return std::string();
          }};
}

// Parses the arguments after the program name into `options` (the common flags) and through
// `extras`. Flags take their value as the next argument or after '='; the last one wins. Fails
// with errc::invalid_config for an unknown flag, a missing or bad value, pause-min above
// pause-max, fault percentages above 100 in all; `why` then says which.
error_code parse_sim_upstream_flags(std::span<const std::string_view> args,
                                    sim_upstream_options& options,
                                    std::span<const sim_extra_flag> extras, std::string* why);

// The --help lines of the common flags, for a simulator listening on `default_port`.
std::string sim_upstream_usage(std::uint16_t default_port);

// The simulators' clock: real time shifted by an offset that POST /sim/clock moves forward, so a
// test can jump past a rate-limit window or make data change without waiting.
class sim_clock {
 public:
  using time_point = std::chrono::sys_time<std::chrono::milliseconds>;
  time_point now() const noexcept;
  std::chrono::milliseconds offset() const noexcept {
    return std::chrono::milliseconds{offset_ms_.load(std::memory_order_relaxed)};
  }
  void advance(std::chrono::milliseconds by) noexcept {
    offset_ms_.fetch_add(by.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> offset_ms_{0};
};

// A fixed-window budget per client: windows of `window` aligned on the clock's epoch; a client
// that has used `limit` units in the current window is refused until the next one.
class sim_window_limiter {
 public:
  sim_window_limiter(std::uint64_t limit, std::chrono::milliseconds window) noexcept
      : limit_(limit), window_(window) {}

  // Whether `client` may be served at `now`; when it may, `units` are added to its use (the
  // request that crosses the limit is served, as randomuser.me does). `used`, when given,
  // receives the client's use in this window (including `units` when admitted).
  bool admit(std::string_view client, std::uint64_t units, sim_clock::time_point now,
             std::uint64_t* used = nullptr);
  void reset();
  std::uint64_t limit() const noexcept { return limit_; }
  std::chrono::milliseconds window() const noexcept { return window_; }

 private:
  std::uint64_t limit_;
  std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::int64_t current_window_ = -1;
  std::unordered_map<std::string, std::uint64_t> used_;
};

// What an upstream simulator saw and served, behind GET /sim/report.
class sim_served_report {
 public:
  void count_request() noexcept { requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_connection() noexcept { connections_.fetch_add(1, std::memory_order_relaxed); }
  void count_chaos(sim_chaos_verdict::kind what) noexcept { chaos_.count_chaos(what); }
  void count_fault(sim_fault fault) noexcept { chaos_.count_fault(fault); }
  void count_status(unsigned status);
  // `id` of `kind` ("launches", "users", "organizations"...) went out in a 200 answer.
  void served(std::string_view kind, std::string_view id);
  void reset();

  // {"requests", "connections", "chaos": {"errors", "pauses"}, "faults": {<kind>: n},
  //  "statuses": {"200": n, ...}, "served": {<kind>: {"distinct", "total", "ids": {id: n}}}}
  boost::json::object to_json() const;

 private:
  using counter = std::atomic<std::uint64_t>;
  counter requests_{0};
  counter connections_{0};
  sim_chaos_counters chaos_;
  mutable std::mutex mutex_;  // guards the maps
  std::map<unsigned, std::uint64_t> statuses_;
  std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> served_;
};

class sim_upstream : public sim_service {
 public:
  // `name` is the binary's name (the Server header); `seed` the resolved seed.
  sim_upstream(std::string name, const sim_upstream_options& options, std::uint64_t seed);

  sim_listen_settings listen_settings() const override;
  // "/sim/..." is never subject to chaos; every other request takes the next chaos number.
  sim_admission admit(const sim_request& request) override;
  // /sim/report, /sim/config, /sim/reset, /sim/clock, or route() with the drawn fault applied
  // to a 200 answer of kind JSON; counts the answer's status.
  sim_reply handle(const sim_request& request, const sim_admission& admission) override;
  void count_connection() noexcept override { report_.count_connection(); }

  std::uint64_t seed() const noexcept { return seed_; }
  const std::string& name() const noexcept { return name_; }
  sim_clock& clock() noexcept { return clock_; }
  const sim_clock& clock() const noexcept { return clock_; }
  sim_served_report& report() noexcept { return report_; }
  // Records where the server listens, for /sim/config (the options may say port 0).
  void set_listening(std::uint16_t port, unsigned threads) noexcept;
  // GET /sim/config's body: the common settings plus config_extra().
  std::string config_json() const;
  // GET /sim/report's body: the served report plus report_extra().
  std::string report_json() const;

 protected:
  // The upstream's own answer to a request outside /sim/*.
  virtual sim_reply route(const sim_request& request) = 0;
  virtual void config_extra(boost::json::object&) const {}
  virtual void report_extra(boost::json::object&) const {}
  // POST /sim/reset: clear the upstream's own counters (rate limits, caches) too.
  virtual void reset_extra() {}

 private:
  sim_reply clock_endpoint(const sim_request& request);

  std::string name_;
  sim_upstream_options options_;
  std::uint64_t seed_;
  sim_chaos chaos_;
  sim_clock clock_;
  sim_served_report report_;
  std::atomic<std::uint64_t> chaos_sequence_{0};
  std::atomic<std::uint16_t> listening_port_{0};
  std::atomic<unsigned> threads_{0};
};

// A deterministic stream of draws: the n-th call of next() is sim_hash(seed, salt, n), so a
// generator that draws in a fixed order gives the same data for the same seed.
class sim_draws {
 public:
  sim_draws(std::uint64_t seed, std::uint64_t salt) noexcept : seed_(seed), salt_(salt) {}
  std::uint64_t next() noexcept;
  // Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  // Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  // True with probability percent/100.
  bool percent(unsigned p) noexcept { return below(100) < p; }
  template <class T>
  const T& pick(std::span<const T> items) noexcept {
    return items[below(items.size())];
  }

 private:
  std::uint64_t seed_;
  std::uint64_t salt_;
  std::uint64_t n_ = 0;
};

// A 64-bit hash of a text (FNV-1a): the same on every platform, unlike std::hash.
std::uint64_t sim_text_hash(std::string_view text) noexcept;

// `digits` lowercase hex digits drawn from (seed, salt, index): ids like Mongo's 24-hex ones.
std::string sim_hex_id(std::uint64_t seed, std::uint64_t salt, std::uint64_t index,
                       std::size_t digits = 24);

// The body of an upstream simulator's main() after its flags are parsed: logs to stderr at
// `log_level`, builds the application with `make`, listens, prints the one line
// "listening HOST:PORT" on stdout, serves until SIGINT or SIGTERM. Returns the exit status:
// 0, or 1 when it cannot listen or the application throws.
int sim_serve(const std::function<std::unique_ptr<sim_upstream>()>& make,
              const std::string& log_level);

// The whole main() of an upstream simulator: parses the arguments with `parse` (a
// parse_<upstream>_options), prints usage() for --help, else serves an App built from the
// options. Returns the exit status: 2 for a bad flag (the reason on stderr), else sim_serve's.
template <class App, class Parse, class Usage>
int sim_upstream_main(std::string_view name, int argc, char** argv, Parse parse, Usage usage) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string why;
  const auto options = parse(args, &why);
  if (!options) {
    std::cerr << name << ": " << why << '\n';
    return 2;
  }
  if (options->common.help) {
    std::cout << usage();
    return 0;
  }
  return sim_serve([&] { return std::unique_ptr<sim_upstream>(std::make_unique<App>(*options)); },
                   options->common.log_level);
}

// A random seed for a run started without --seed.
std::uint64_t sim_random_seed();

// "2022-12-05T00:00:00.000Z" for a point in time (milliseconds kept).
std::string sim_iso_millis(sim_clock::time_point t);
// "2016-01-11T05:41:57Z" for a point in time (seconds).
std::string sim_iso_seconds(std::chrono::sys_seconds t);

}  // namespace etl
