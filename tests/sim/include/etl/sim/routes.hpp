// The simulator's application: routes, handlers, chaos and faults, without any networking.
//
// The server loop asks `admit` first (chaos: an immediate 5xx, or a pause it must wait out on a
// timer), then `handle` for the answer. Keeping this apart from Beast lets unit tests drive the
// whole API as plain function calls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "etl/sim/chaos.hpp"
#include "etl/sim/dataset.hpp"
#include "etl/sim/options.hpp"
#include "etl/sim/report.hpp"

namespace etl {

// How the server loop must deliver a reply.
enum class sim_delivery {
  normal,
  reset,    // close the connection (with an RST) without answering
  trickle,  // write the serialized answer a few bytes at a time with delays
};

struct sim_reply {
  unsigned status = 200;
  std::string_view content_type = "application/json";
  std::string body;
  std::string location;  // set on a 307 redirect
  sim_delivery delivery = sim_delivery::normal;
  std::string retry_after;  // the Retry-After header, when set
};

struct sim_admission {
  std::optional<sim_reply> early;  // chaos error: send this at once, do not handle the request
  // chaos pause and --post-delay-ms: wait this long (on a timer), then handle
  std::chrono::milliseconds pause{0};
  std::optional<std::uint64_t> request_no;  // the chaos sequence number; unset for / and /sim/*
  bool source_get = false;                  // a listing or detail GET (counted in flight)
};

class sim_app {
 public:
  // Resolves what the options leave open: a random seed when none is given, the page count from
  // the seed, the born_at upper bound (now, or 2026-01-01 with a fixed seed).
  explicit sim_app(const sim_options& options);

  const sim_options& options() const noexcept { return options_; }
  std::uint64_t seed() const noexcept { return data_.seed(); }
  const sim_dataset& data() const noexcept { return data_; }
  sim_report& report() noexcept { return report_; }
  const sim_report& report() const noexcept { return report_; }

  // Counts the request and draws its chaos fate: every request but "/" and "/sim/..." takes the
  // next number of the chaos sequence. POSTs never pause with --no-post-pause.
  sim_admission admit(std::string_view method, std::string_view target);

  // The answer to a request (after its pause): the API, /sim/*, 404/405/422/500 as FastAPI
  // would answer, and the faults drawn for listing and detail GETs.
  sim_reply handle(std::string_view method, std::string_view target, std::string_view body,
                   const sim_admission& admission);

  // GET /sim/config's body: the resolved options, seed and totals.
  std::string config_json() const;
  // Records where the server listens, for /sim/config (the options may say port 0).
  void set_listening(std::uint16_t port, unsigned threads) noexcept;

 private:
  sim_reply listing(std::string_view query, const sim_admission& admission);
  sim_reply detail(std::string_view id_text, const sim_admission& admission);
  sim_reply home(std::string_view body);
  // Applies the fault drawn for this request to a 200 listing (`page` set) or detail reply.
  void apply_fault(sim_reply& reply, std::uint64_t request_no, std::optional<std::int64_t> id,
                   std::optional<std::pair<std::int64_t, std::string>> page);

  sim_options options_;
  sim_dataset data_;
  sim_chaos chaos_;
  sim_report report_;
  std::atomic<std::uint64_t> chaos_sequence_{0};
  std::atomic<std::uint64_t> posts_refused_{0};
  std::atomic<std::uint16_t> listening_port_{0};
  std::atomic<unsigned> threads_{0};
};

}  // namespace etl
