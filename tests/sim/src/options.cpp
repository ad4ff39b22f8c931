#include "etl/sim/options.hpp"

#include <charconv>
#include <limits>
#include <numeric>

#include "etl/core/error.hpp"
#include "etl/sim/faults.hpp"

namespace etl {
namespace {

constexpr std::int64_t max_pages = 10'000'000;  // 100M animals: a 12.5 MB received-bitmap

bool takes_value(std::string_view flag) {
  static constexpr std::array<std::string_view, 18> flags = {
      "--host",
      "--port",
      "--threads",
      "--pages",
      "--seed",
      "--chaos-percent",
      "--pause-min",
      "--pause-max",
      "--keep-alive-timeout",
      "--trickle-delay-ms",
      "--log-level",
      "--repeat-ids",
      "--post-delay-ms",
      "--get-delay-ms",
      "--refuse-posts",
      "--capacity-slots",
      "--request-cost-us",
      "--overload-cost-us",
  };
  return std::find(flags.begin(), flags.end(), flag) != flags.end() ||
         std::find(sim_fault_flags.begin(), sim_fault_flags.end(), flag) != sim_fault_flags.end();
}

template <class T>
bool parse_number(std::string_view text, T min, T max, T& out) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

result<sim_options> fail(std::string* why, std::string message) {
  if (why != nullptr) {
    *why = std::move(message);
  }
  return errc::invalid_config;
}

}  // namespace

result<sim_options> parse_sim_options(std::span<const std::string_view> args, std::string* why) {
  sim_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::optional<std::string_view> inline_value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    const auto is_switch = [&](std::string_view name) { return flag == name; };

    if (is_switch("--help") || is_switch("-h")) {
      o.help = true;
      continue;
    }
    if (is_switch("--no-post-pause") || is_switch("--verify")) {
      if (inline_value) {
        return fail(why, std::string(flag) + " takes no value");
      }
      (flag == "--verify" ? o.verify : o.no_post_pause) = true;
      continue;
    }

    if (!takes_value(flag)) {
      return fail(why, "unknown flag '" + std::string(flag) + "' (see --help)");
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fail(why, std::string(flag) + " needs a value");
    }
    const auto bad = [&](std::string_view expected) {
      return fail(why, std::string(flag) + ": '" + std::string(value) + "' is not " +
                           std::string(expected));
    };

    if (flag == "--host") {
      if (value.empty()) {
        return bad("a host address");
      }
      o.host = value;
    } else if (flag == "--port") {
      if (!parse_number<std::uint16_t>(value, 0, 65535, o.port)) {
        return bad("a port number 0..65535");
      }
    } else if (flag == "--threads") {
      if (!parse_number<unsigned>(value, 1, 256, o.threads)) {
        return bad("a thread count 1..256");
      }
    } else if (flag == "--pages") {
      std::int64_t pages = 0;
      if (!parse_number<std::int64_t>(value, 0, max_pages, pages)) {
        return bad("a page count 0..10000000");
      }
      o.pages = pages;
    } else if (flag == "--seed") {
      std::uint64_t seed = 0;
      if (!parse_number<std::uint64_t>(value, 0, std::numeric_limits<std::uint64_t>::max(), seed)) {
        return bad("an unsigned 64-bit integer");
      }
      o.seed = seed;
    } else if (flag == "--chaos-percent") {
      if (!parse_number<unsigned>(value, 0, 100, o.chaos.chaos_percent)) {
        return bad("a percentage 0..100");
      }
    } else if (flag == "--pause-min") {
      if (!parse_number<unsigned>(value, 0, 3600, o.chaos.pause_min_seconds)) {
        return bad("a number of seconds 0..3600");
      }
    } else if (flag == "--pause-max") {
      if (!parse_number<unsigned>(value, 0, 3600, o.chaos.pause_max_seconds)) {
        return bad("a number of seconds 0..3600");
      }
    } else if (flag == "--keep-alive-timeout") {
      unsigned seconds = 0;
      if (!parse_number<unsigned>(value, 1, 3600, seconds)) {
        return bad("a number of seconds 1..3600");
      }
      o.keep_alive_timeout = std::chrono::seconds{seconds};
    } else if (flag == "--trickle-delay-ms") {
      unsigned ms = 0;
      if (!parse_number<unsigned>(value, 1, 10'000, ms)) {
        return bad("a number of milliseconds 1..10000");
      }
      o.trickle_delay = std::chrono::milliseconds{ms};
    } else if (flag == "--repeat-ids") {
      if (!parse_number<unsigned>(value, 0, 100, o.repeat_ids_percent)) {
        return bad("a percentage 0..100");
      }
    } else if (flag == "--post-delay-ms") {
      unsigned ms = 0;
      if (!parse_number<unsigned>(value, 0, 600'000, ms)) {
        return bad("a number of milliseconds 0..600000");
      }
      o.post_delay = std::chrono::milliseconds{ms};
    } else if (flag == "--get-delay-ms") {
      unsigned ms = 0;
      if (!parse_number<unsigned>(value, 0, 600'000, ms)) {
        return bad("a number of milliseconds 0..600000");
      }
      o.get_delay = std::chrono::milliseconds{ms};
    } else if (flag == "--refuse-posts") {
      if (!parse_number<std::uint64_t>(value, 0, 1'000'000, o.refuse_posts)) {
        return bad("a number of POSTs 0..1000000");
      }
    } else if (flag == "--capacity-slots") {
      if (!parse_number<unsigned>(value, 0, 4096, o.capacity.slots)) {
        return bad("a slot count 0..4096");
      }
    } else if (flag == "--request-cost-us") {
      std::int64_t us = 0;
      if (!parse_number<std::int64_t>(value, 0, 60'000'000, us)) {
        return bad("a number of microseconds 0..60000000");
      }
      o.capacity.cost = std::chrono::microseconds{us};
    } else if (flag == "--overload-cost-us") {
      std::int64_t us = 0;
      if (!parse_number<std::int64_t>(value, 0, 1'000'000, us)) {
        return bad("a number of microseconds 0..1000000");
      }
      o.capacity.overload = std::chrono::microseconds{us};
    } else if (flag == "--log-level") {
      if (value != "trace" && value != "debug" && value != "info" && value != "warn" &&
          value != "error" && value != "off") {
        return bad("one of trace, debug, info, warn, error, off");
      }
      o.log_level = value;
    } else if (const auto it = std::find(sim_fault_flags.begin(), sim_fault_flags.end(), flag);
               it != sim_fault_flags.end()) {
      auto& percent = o.chaos.fault_percent[static_cast<std::size_t>(it - sim_fault_flags.begin())];
      if (!parse_number<unsigned>(value, 0, 100, percent)) {
        return bad("a percentage 0..100");
      }
    }
  }
  if (o.chaos.pause_min_seconds > o.chaos.pause_max_seconds) {
    return fail(why, "--pause-min (" + std::to_string(o.chaos.pause_min_seconds) +
                         ") is above --pause-max (" + std::to_string(o.chaos.pause_max_seconds) +
                         ")");
  }
  if (!o.capacity.enabled() && (o.capacity.cost.count() > 0 || o.capacity.overload.count() > 0)) {
    return fail(why, "--request-cost-us and --overload-cost-us need --capacity-slots");
  }
  const unsigned fault_sum =
      std::accumulate(o.chaos.fault_percent.begin(), o.chaos.fault_percent.end(), 0U);
  if (fault_sum > 100) {
    return fail(why, "the --fault-* percentages add up to " + std::to_string(fault_sum) +
                         ", more than 100 (the faults are exclusive)");
  }
  return o;
}

std::string sim_usage() {
  return R"(animals-sim: the project's simulator of the animals API (see docs/animals-api.md)

Usage: animals-sim [flags]     (values as "--flag value" or "--flag=value")

  --host ADDR              listen address (default 127.0.0.1)
  --port N                 listen port, 0 picks a free one (default 3123)
  --threads N              event loop threads (default: hardware concurrency)
  --pages N                total pages of 10 animals, 0..10000000 (default: 500..600 at random)
  --seed S                 same seed, same data and same chaos sequence (default: random, logged)
  --chaos-percent P        chaos on P of 101 requests like the original's randint(0,100) < P;
                           100 means every request (default 2)
  --pause-min S            shortest chaos pause in seconds (default 5)
  --pause-max S            longest chaos pause in seconds (default 15)
  --no-post-pause          POSTs never pause (they still get the 5xx chaos)
  --verify                 a repeated or unknown id makes the whole POST answer 500
  --fault-malformed-json P percent of listing/detail GETs answered with truncated JSON (200)
  --fault-wrong-types P    ... with a field of the wrong JSON type (200)
  --fault-missing-fields P ... with a field dropped (200)
  --fault-html-errors P    ... with a 502 and an HTML body, like a proxy
  --fault-reset P          ... by closing the connection without an answer
  --fault-trickle P        ... by sending the answer a few bytes at a time
  --fault-big-body P       ... with a 1 MiB body
                           (fault percentages default to 0 and add up to at most 100)
  --trickle-delay-ms MS    delay between trickled chunks (default 25)
  --repeat-ids P           P percent of listing pages (from the second) repeat the first id of
                           the page before in place of their last one, like a listing that
                           drifts while paged; /sim/report's "listed" leaves the replaced ids
                           out (default 0)
  --post-delay-ms MS       every POST to home waits MS before it is handled, besides chaos
                           (default 0)
  --get-delay-ms MS        every listing and detail GET waits MS before it is handled, besides
                           chaos: a slow source (default 0)
  --refuse-posts N         the first N POSTs to home answer 503 with "Retry-After: 2" at once,
                           without handling them (default 0)
  --capacity-slots N       a capacity-bound upstream, like a single-process web app: N service
                           slots (server threads); every API request (not / or /sim/*) waits
                           for a free slot, first come first served, after its chaos pause, and
                           holds it for its cost; 0 is off: no slots, no cost (default 0)
  --request-cost-us US     how long a request holds its slot, in microseconds: a timer, the
                           request sleeps, no CPU is spent (default 0)
  --overload-cost-us US    added to a request's hold for every request waiting for a slot when
                           it takes one, so that throughput falls past the knee (default 0);
                           the peak is N / (cost + overload x waiting) requests per second
  --keep-alive-timeout S   idle keep-alive connections close after S seconds (default 5)
  --log-level LEVEL        trace, debug, info, warn, error, off (default info)
  --help                   this text

On start the one line "listening HOST:PORT" goes to stdout; logs go to stderr.
Endpoints besides the API: GET /sim/report, GET /sim/config, POST /sim/reset.
)";
}

}  // namespace etl
