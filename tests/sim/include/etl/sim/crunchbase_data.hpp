// crunchbase-sim's organizations: generated from the seed with the real search API's edges
// (omitted values, partial locations, unicode names, many orgs sharing one updated_at second)
// and changing as the simulator's clock moves, so that a second run sees changed orgs.
//
// The data's time is fixed (crunchbase_epoch) plus the clock's offset: real time alone never
// changes an org, only POST /sim/clock does, so a test decides what changed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace etl {

// The data's "now" when the clock has not been moved: 2024-01-01T00:00:00Z.
inline constexpr std::chrono::sys_seconds crunchbase_epoch{std::chrono::seconds{1'704'067'200}};
inline constexpr std::size_t crunchbase_default_orgs = 3000;

struct crunchbase_org {
  std::string uuid;
  std::chrono::sys_seconds updated_at;
  std::chrono::sys_seconds created_at;
  unsigned version = 0;  // changes since the epoch
  // Every property the org has (absent ones are not there), in the API's key order for this
  // org; "identifier" always.
  boost::json::object properties;
};

class crunchbase_dataset {
 public:
  // `orgs` organizations from `seed`; the state at the epoch is built at once.
  crunchbase_dataset(std::uint64_t seed, std::size_t orgs);

  // The organizations as they are at `now` (>= the epoch): each with the changes up to `now`.
  // Changes happen in hourly rounds: about 1% of the orgs change in each hour after the epoch,
  // those of one round in a few shared seconds.
  std::vector<crunchbase_org> at(std::chrono::sys_seconds now) const;
  std::size_t size() const noexcept { return base_.size(); }

 private:
  std::uint64_t seed_;
  std::vector<crunchbase_org> base_;
};

}  // namespace etl
