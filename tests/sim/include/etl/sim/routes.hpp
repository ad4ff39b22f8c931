// The simulator's application: routes, handlers, chaos and faults, without any networking.
//
// The server loop asks `admit` first (chaos: an immediate 5xx, or a pause it must wait out on a
// timer), then `handle` for the answer. Keeping this apart from Beast lets unit tests drive the
// whole API as plain function calls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "etl/sim/capacity.hpp"
#include "etl/sim/chaos.hpp"
#include "etl/sim/dataset.hpp"
#include "etl/sim/options.hpp"
#include "etl/sim/report.hpp"
#include "etl/sim/service.hpp"

namespace etl {

class sim_app : public sim_service {
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

  // sim_service: the same calls for the server, which reads requests as sim_request.
  sim_listen_settings listen_settings() const override;
  sim_admission admit(const sim_request& request) override {
    return admit(request.method, request.target);
  }
  sim_reply handle(const sim_request& request, const sim_admission& admission) override {
    return handle(request.method, request.target, request.body, admission);
  }
  // The service slots of --capacity-slots; nullptr when that is 0 (the default).
  sim_capacity* capacity() noexcept override { return capacity_.get(); }
  void count_connection() noexcept override { report_.count_connection(); }
  void source_get_began() noexcept override { report_.source_get_began(); }
  void source_get_ended() noexcept override { report_.source_get_ended(); }

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
  std::unique_ptr<sim_capacity> capacity_;
  std::atomic<std::uint64_t> chaos_sequence_{0};
  std::atomic<std::uint64_t> posts_refused_{0};
  std::atomic<std::uint16_t> listening_port_{0};
  std::atomic<unsigned> threads_{0};
};

}  // namespace etl
