#include "etl/sim/upstream.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/core/error.hpp"
#include "etl/sim/dataset.hpp"
#include "etl/sim/faults.hpp"

namespace etl {
namespace {

constexpr std::array<std::string_view, 10> common_value_flags = {
    "--host",
    "--port",
    "--threads",
    "--seed",
    "--chaos-percent",
    "--pause-min",
    "--pause-max",
    "--keep-alive-timeout",
    "--trickle-delay-ms",
    "--log-level",
};

enum : std::uint64_t { draw_cut, draw_record, draw_member };

error_code fail(std::string* why, std::string message) {
  if (why != nullptr) {
    *why = std::move(message);
  }
  return make_error_code(errc::invalid_config);
}

// Stores a common flag's value; "" when fine, else what the value should be.
std::string store_common(std::string_view flag, std::string_view value, sim_upstream_options& o) {
  std::int64_t n = 0;
  const auto number = [&](std::int64_t min, std::int64_t max) {
    return sim_parse_number(value, min, max, n);
  };
  if (flag == "--host") {
    if (value.empty()) {
      return "a host address";
    }
    o.listen.host = value;
  } else if (flag == "--port") {
    if (!number(0, 65535)) {
      return "a port number 0..65535";
    }
    o.listen.port = static_cast<std::uint16_t>(n);
  } else if (flag == "--threads") {
    if (!number(1, 256)) {
      return "a thread count 1..256";
    }
    o.listen.threads = static_cast<unsigned>(n);
  } else if (flag == "--seed") {
    std::uint64_t seed = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seed);
    if (ec != std::errc{} || end != value.data() + value.size()) {
      return "an unsigned 64-bit integer";
    }
    o.seed = seed;
  } else if (flag == "--chaos-percent") {
    if (!number(0, 100)) {
      return "a percentage 0..100";
    }
    o.chaos.chaos_percent = static_cast<unsigned>(n);
  } else if (flag == "--pause-min" || flag == "--pause-max") {
    if (!number(0, 3600)) {
      return "a number of seconds 0..3600";
    }
    (flag == "--pause-min" ? o.chaos.pause_min_seconds : o.chaos.pause_max_seconds) =
        static_cast<unsigned>(n);
  } else if (flag == "--keep-alive-timeout") {
    if (!number(1, 3600)) {
      return "a number of seconds 1..3600";
    }
    o.listen.keep_alive_timeout = std::chrono::seconds{n};
  } else if (flag == "--trickle-delay-ms") {
    if (!number(1, 10'000)) {
      return "a number of milliseconds 1..10000";
    }
    o.listen.trickle_delay = std::chrono::milliseconds{n};
  } else if (flag == "--log-level") {
    static constexpr std::array<std::string_view, 6> levels = {"trace", "debug", "info",
                                                               "warn",  "error", "off"};
    if (std::find(levels.begin(), levels.end(), value) == levels.end()) {
      return "one of trace, debug, info, warn, error, off";
    }
    o.log_level = value;
  } else if (const auto it = std::find(sim_fault_flags.begin(), sim_fault_flags.end(), flag);
             it != sim_fault_flags.end()) {
    if (!number(0, 100)) {
      return "a percentage 0..100";
    }
    o.chaos.fault_percent[static_cast<std::size_t>(it - sim_fault_flags.begin())] =
        static_cast<unsigned>(n);
  }
  return {};
}

sim_reply json_reply(unsigned status, std::string body) {
  sim_reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

}  // namespace

bool sim_parse_number(std::string_view text, std::int64_t min, std::int64_t max,
                      std::int64_t& out) noexcept {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

error_code parse_sim_upstream_flags(std::span<const std::string_view> args,
                                    sim_upstream_options& options,
                                    std::span<const sim_extra_flag> extras, std::string* why) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::optional<std::string_view> inline_value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    const auto extra = std::find_if(extras.begin(), extras.end(),
                                    [&](const sim_extra_flag& e) { return e.name == flag; });
    const bool common =
        std::find(common_value_flags.begin(), common_value_flags.end(), flag) !=
            common_value_flags.end() ||
        std::find(sim_fault_flags.begin(), sim_fault_flags.end(), flag) != sim_fault_flags.end();
    if (extra == extras.end() && !common) {
      return fail(why, "unknown flag '" + std::string(flag) + "' (see --help)");
    }
    std::string_view value;
    if (extra != extras.end() && !extra->takes_value) {
      if (inline_value) {
        return fail(why, std::string(flag) + " takes no value");
      }
    } else if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fail(why, std::string(flag) + " needs a value");
    }
    const std::string expected =
        extra != extras.end() ? extra->store(value) : store_common(flag, value, options);
    if (!expected.empty()) {
      return fail(why, fmt::format("{}: '{}' is not {}", flag, value, expected));
    }
  }
  if (options.chaos.pause_min_seconds > options.chaos.pause_max_seconds) {
    return fail(why, fmt::format("--pause-min ({}) is above --pause-max ({})",
                                 options.chaos.pause_min_seconds, options.chaos.pause_max_seconds));
  }
  const unsigned fault_sum =
      std::accumulate(options.chaos.fault_percent.begin(), options.chaos.fault_percent.end(), 0U);
  if (fault_sum > 100) {
    return fail(why, fmt::format("the --fault-* percentages add up to {}, more than 100 (the "
                                 "faults are exclusive)",
                                 fault_sum));
  }
  return {};
}

std::string sim_upstream_usage(std::uint16_t default_port) {
  return fmt::format(R"(Common flags (values as "--flag value" or "--flag=value"):
  --host ADDR              listen address (default 127.0.0.1)
  --port N                 listen port, 0 picks a free one (default {})
  --threads N              event loop threads (default: hardware concurrency)
  --seed S                 same seed, same data and same chaos sequence (default: random, logged)
  --chaos-percent P        chaos on P of 101 requests (an immediate 500/502/503/504, or a pause
                           before the answer, evenly); 100 means every request (default 0)
  --pause-min S            shortest chaos pause in seconds (default 5)
  --pause-max S            longest chaos pause in seconds (default 15)
  --fault-malformed-json P percent of API answers cut short (200, invalid JSON)
  --fault-wrong-types P    ... with one member of one record of another JSON type (200)
  --fault-missing-fields P ... with one member of one record dropped (200)
  --fault-html-errors P    ... replaced by a 502 with an HTML body, like a proxy
  --fault-reset P          ... replaced by closing the connection (RST)
  --fault-trickle P        ... sent a few bytes at a time
  --fault-big-body P       ... padded to 1 MiB
                           (fault percentages default to 0 and add up to at most 100)
  --trickle-delay-ms MS    delay between trickled chunks (default 25)
  --keep-alive-timeout S   idle keep-alive connections close after S seconds (default 5)
  --log-level LEVEL        trace, debug, info, warn, error, off (default info)
  --help                   this text

On start the one line "listening HOST:PORT" goes to stdout; logs go to stderr.
Endpoints besides the API: GET /sim/report, GET /sim/config, POST /sim/reset,
GET /sim/clock, POST /sim/clock {{"advance_seconds": N}}.
)",
                     default_port);
}

sim_clock::time_point sim_clock::now() const noexcept {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
         offset();
}

bool sim_window_limiter::admit(std::string_view client, std::uint64_t units,
                               sim_clock::time_point now, std::uint64_t* used) {
  const std::int64_t window = now.time_since_epoch().count() / window_.count();
  std::lock_guard lock(mutex_);
  if (window != current_window_) {
    // Fixed windows: every counter resets together, not sliding.
    used_.clear();
    current_window_ = window;
  }
  auto& mine = used_[std::string(client)];
  const bool ok = mine < limit_;
  if (ok) {
    mine += units;
  }
  if (used != nullptr) {
    *used = mine;
  }
  return ok;
}

void sim_window_limiter::reset() {
  std::lock_guard lock(mutex_);
  used_.clear();
}

void sim_served_report::count_status(unsigned status) {
  std::lock_guard lock(mutex_);
  ++statuses_[status];
}

void sim_served_report::served(std::string_view kind, std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = served_.find(kind);
  if (it == served_.end()) {
    it = served_.emplace(std::string(kind), std::map<std::string, std::uint64_t>{}).first;
  }
  ++it->second[std::string(id)];
}

void sim_served_report::reset() {
  for (auto* c : {&requests_, &connections_}) {
    c->store(0, std::memory_order_relaxed);
  }
  chaos_.reset();
  std::lock_guard lock(mutex_);
  statuses_.clear();
  served_.clear();
}

boost::json::object sim_served_report::to_json() const {
  const auto load = [](const counter& c) { return c.load(std::memory_order_relaxed); };
  std::lock_guard lock(mutex_);
  boost::json::object statuses;
  for (const auto& [status, n] : statuses_) {
    statuses[std::to_string(status)] = n;
  }
  boost::json::object served;
  for (const auto& [kind, ids] : served_) {
    boost::json::object counts;
    std::uint64_t total = 0;
    for (const auto& [id, n] : ids) {
      counts[id] = n;
      total += n;
    }
    served[kind] = {{"distinct", ids.size()}, {"total", total}, {"ids", std::move(counts)}};
  }
  boost::json::object report{
      {"requests", load(requests_)},
      {"connections", load(connections_)},
  };
  chaos_.add_to(report);
  report["statuses"] = std::move(statuses);
  report["served"] = std::move(served);
  return report;
}

sim_upstream::sim_upstream(std::string name, const sim_upstream_options& options,
                           std::uint64_t seed)
    : name_(std::move(name)), options_(options), seed_(seed), chaos_(seed, options.chaos) {}

sim_listen_settings sim_upstream::listen_settings() const {
  auto settings = options_.listen;
  settings.server_name = name_;
  return settings;
}

sim_admission sim_upstream::admit(const sim_request& request) {
  report_.count_request();
  if (request.path().starts_with("/sim/")) {
    return {};
  }
  sim_admission out;
  out.request_no = chaos_sequence_.fetch_add(1, std::memory_order_relaxed);
  const auto verdict = chaos_.chaos_for(*out.request_no);
  report_.count_chaos(verdict.what);
  if (verdict.what == sim_chaos_verdict::kind::error) {
    out.early = sim_reply{verdict.status, "text/plain; charset=utf-8", "Sorry!"};
    report_.count_status(verdict.status);
  } else if (verdict.what == sim_chaos_verdict::kind::pause) {
    out.pause = verdict.pause;
  }
  return out;
}

sim_reply sim_upstream::handle(const sim_request& request, const sim_admission& admission) {
  const auto path = request.path();
  sim_reply reply;
  if (path == "/sim/report" && request.method == "GET") {
    reply = json_reply(200, report_json());
  } else if (path == "/sim/config" && request.method == "GET") {
    reply = json_reply(200, config_json());
  } else if (path == "/sim/reset" && request.method == "POST") {
    report_.reset();
    reset_extra();
    reply = json_reply(200, R"({"reset":true})");
  } else if (path == "/sim/clock") {
    reply = clock_endpoint(request);
  } else if (path.starts_with("/sim/")) {
    reply = json_reply(404, R"({"error":"no such simulator endpoint"})");
  } else {
    reply = route(request);
    if (admission.request_no && reply.status == 200 &&
        reply.content_type.starts_with("application/json")) {
      const auto no = *admission.request_no;
      const sim_fault fault = chaos_.fault_for(no);
      if (sim_apply_body_fault(reply, fault, chaos_.detail_draw(no, draw_cut)) ||
          sim_distort_json_record(reply, fault, chaos_.detail_draw(no, draw_record),
                                  chaos_.detail_draw(no, draw_member))) {
        report_.count_fault(fault);
      }
    }
    report_.count_status(reply.status);
  }
  return reply;
}

sim_reply sim_upstream::clock_endpoint(const sim_request& request) {
  if (request.method == "POST") {
    error_code ec;
    const auto body = boost::json::parse(request.body, ec);
    const auto* object = ec ? nullptr : body.if_object();
    const auto* seconds = object ? object->if_contains("advance_seconds") : nullptr;
    if (seconds == nullptr || !seconds->is_int64() || seconds->as_int64() < 0) {
      return json_reply(400, R"({"error":"expected {\"advance_seconds\": N}, N >= 0"})");
    }
    clock_.advance(std::chrono::seconds{seconds->as_int64()});
  } else if (request.method != "GET") {
    return json_reply(405, R"({"error":"GET or POST"})");
  }
  const auto now = clock_.now();
  return json_reply(200, boost::json::serialize(boost::json::object{
                             {"now", sim_iso_millis(now)},
                             {"now_ms", now.time_since_epoch().count()},
                             {"offset_ms", clock_.offset().count()},
                         }));
}

void sim_upstream::set_listening(std::uint16_t port, unsigned threads) noexcept {
  listening_port_.store(port, std::memory_order_relaxed);
  threads_.store(threads, std::memory_order_relaxed);
}

std::string sim_upstream::config_json() const {
  boost::json::object config{
      {"simulator", name_},
      {"seed", seed_},
      {"seed_fixed", options_.seed.has_value()},
      {"host", options_.listen.host},
      {"port", listening_port_.load(std::memory_order_relaxed)},
      {"threads", threads_.load(std::memory_order_relaxed)},
      {"chaos_percent", options_.chaos.chaos_percent},
      {"pause_min", options_.chaos.pause_min_seconds},
      {"pause_max", options_.chaos.pause_max_seconds},
      {"faults", sim_fault_percents_json(options_.chaos)},
      {"trickle_delay_ms", options_.listen.trickle_delay.count()},
      {"keep_alive_timeout", options_.listen.keep_alive_timeout.count()},
      {"clock_offset_ms", clock_.offset().count()},
  };
  config_extra(config);
  return boost::json::serialize(config);
}

std::string sim_upstream::report_json() const {
  auto report = report_.to_json();
  report_extra(report);
  return boost::json::serialize(report);
}

std::uint64_t sim_draws::next() noexcept {
  return sim_hash(seed_, salt_, n_++);
}

std::uint64_t sim_text_hash(std::string_view text) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return h;
}

std::string sim_hex_id(std::uint64_t seed, std::uint64_t salt, std::uint64_t index,
                       std::size_t digits) {
  static constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  for (std::uint64_t part = 0; out.size() < digits; ++part) {
    auto bits = sim_hash(seed, salt + part, index);
    for (int i = 0; i < 16 && out.size() < digits; ++i, bits >>= 4) {
      out += hex[bits & 15];
    }
  }
  return out;
}

std::uint64_t sim_random_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::string sim_iso_millis(sim_clock::time_point t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::string sim_iso_seconds(std::chrono::sys_seconds t) {
  auto text = sim_iso_millis(t);
  text.erase(text.size() - 5, 4);  // ".000"
  return text;
}

}  // namespace etl
