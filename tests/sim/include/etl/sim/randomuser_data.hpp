// randomuser-sim's users: each one computed from (seed string, page, index) when asked, with the
// nationality's own formats and type quirks (docs/simulators.md lists them), in the key order of
// randomuser.me 1.4. Pure functions: unit tests check the quirks without a server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace etl {

// The 21 nationalities of randomuser.me 1.4, in its order.
std::span<const std::string_view> randomuser_nats() noexcept;

// What one request asks for, after its parameters were read.
struct randomuser_request {
  std::string seed;                   // the seed string (given, or the one drawn for it)
  std::int64_t page = 1;              // 1..10000
  std::vector<std::string> nats;      // upper-case codes; empty: any of the 21
  std::optional<std::string> gender;  // "male" or "female"; ignored when the seed was given
  bool seed_given = false;
};

// The user at `index` (0-based) of the request's page: the same for the same seed, page and
// index whatever the number of results. Ages (dob.age, registered.age) count to `today`.
boost::json::object randomuser_user(const randomuser_request& request, std::uint64_t index,
                                    std::chrono::sys_days today);

}  // namespace etl
