#include "etl/sim/chaos.hpp"

#include "etl/sim/dataset.hpp"

namespace etl {
namespace {

// Far from the dataset's salts, so that request numbers and animal ids never share a draw.
enum : std::uint64_t {
  salt_chaos = 0x6368616f73000001ULL,
  salt_chaos_kind,
  salt_chaos_status,
  salt_chaos_pause,
  salt_fault,
  salt_detail,
};

}  // namespace

std::string_view to_string(sim_fault fault) noexcept {
  switch (fault) {
    case sim_fault::none:
      return "none";
    case sim_fault::malformed_json:
      return "malformed_json";
    case sim_fault::wrong_types:
      return "wrong_types";
    case sim_fault::missing_fields:
      return "missing_fields";
    case sim_fault::html_error:
      return "html_errors";
    case sim_fault::reset:
      return "reset";
    case sim_fault::trickle:
      return "trickle";
    case sim_fault::big_body:
      return "big_body";
  }
  return "unknown";
}

sim_chaos_verdict sim_chaos::chaos_for(std::uint64_t request_no) const noexcept {
  const unsigned draw = static_cast<unsigned>(sim_hash(seed_, salt_chaos, request_no) % 101);
  if (settings_.chaos_percent < 100 && draw >= settings_.chaos_percent) {
    return {};
  }
  if (sim_hash(seed_, salt_chaos_kind, request_no) % 2 == 0) {
    static constexpr std::array<unsigned, 4> statuses = {500, 502, 503, 504};
    return {sim_chaos_verdict::kind::error,
            statuses[sim_hash(seed_, salt_chaos_status, request_no) % statuses.size()],
            std::chrono::seconds{0}};
  }
  const auto span = settings_.pause_max_seconds - settings_.pause_min_seconds + 1;
  const auto seconds =
      settings_.pause_min_seconds + sim_hash(seed_, salt_chaos_pause, request_no) % span;
  return {sim_chaos_verdict::kind::pause, 0, std::chrono::seconds{seconds}};
}

sim_fault sim_chaos::fault_for(std::uint64_t request_no) const noexcept {
  const unsigned draw = static_cast<unsigned>(sim_hash(seed_, salt_fault, request_no) % 100);
  unsigned upper = 0;
  for (std::size_t i = 0; i < settings_.fault_percent.size(); ++i) {
    upper += settings_.fault_percent[i];
    if (draw < upper) {
      return static_cast<sim_fault>(i + 1);
    }
  }
  return sim_fault::none;
}

std::uint64_t sim_chaos::detail_draw(std::uint64_t request_no, std::uint64_t what) const noexcept {
  return sim_hash(seed_, salt_detail + what, request_no);
}

}  // namespace etl
