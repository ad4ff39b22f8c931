// The faults every simulator applies alike to a 200 answer: a cut body, a proxy's 502 HTML page,
// a reset, a trickle, a 1 MiB body, and one record of a JSON answer with a member dropped or of
// the wrong type. Which fault a request gets is drawn by sim_chaos (chaos.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>

#include "etl/sim/chaos.hpp"
#include "etl/sim/service.hpp"

namespace etl {

// Applies a transport-level fault (malformed_json, html_error, reset, trickle, big_body) to
// `reply` and returns true; returns false, changing nothing, for the other kinds. `draw` picks
// where a malformed body is cut (any strict prefix of a JSON value is invalid JSON).
bool sim_apply_body_fault(sim_reply& reply, sim_fault fault, std::uint64_t draw);

// wrong_types or missing_fields on any JSON body: one member of one record (an element of the
// body when it is an array, else of its first array of objects, else the body itself) is
// dropped or replaced by a value of another JSON type. Returns false, changing nothing, for
// another fault kind or a body without a record to distort (an empty page).
bool sim_distort_json_record(sim_reply& reply, sim_fault fault, std::uint64_t record_draw,
                             std::uint64_t member_draw);

// The --fault-* flags in sim_fault order (sim_fault::malformed_json first).
inline constexpr std::array<std::string_view, sim_fault_kinds> sim_fault_flags = {
    "--fault-malformed-json", "--fault-wrong-types", "--fault-missing-fields",
    "--fault-html-errors",    "--fault-reset",       "--fault-trickle",
    "--fault-big-body",
};

// {"malformed_json": percent, ...}: the fault settings as /sim/config shows them.
boost::json::object sim_fault_percents_json(const sim_chaos_settings& settings);

// The chaos and fault counts every simulator's report keeps; atomics, as the request path
// touches them.
class sim_chaos_counters {
 public:
  void count_chaos(sim_chaos_verdict::kind what) noexcept;
  void count_fault(sim_fault fault) noexcept;
  void reset() noexcept;
  // Adds "chaos": {"errors", "pauses"} and "faults": {<kind>: n} to a report.
  void add_to(boost::json::object& report) const;

 private:
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> pauses_{0};
  std::array<std::atomic<std::uint64_t>, sim_fault_kinds> faults_{};
};

}  // namespace etl
