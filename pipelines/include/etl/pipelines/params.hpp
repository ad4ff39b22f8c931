// A trigger's parameters checked against its pipeline's spec: every name declared, every value
// of its type and range, the defaults filled in. The API calls it before a task exists, so a
// bad parameter is a 400 naming what to fix, never a task that fails later.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include "etl/pipelines/spec.hpp"

namespace etl {

// Why a trigger's parameters were refused: the API error code ("unknown_parameter" or
// "invalid_parameter") and a detail that names the parameter and what it takes.
struct param_error {
  std::string code;
  std::string detail;
};

// `given` typed by `spec.params`: values from a query string are text ("true", "42"), from a
// JSON body JSON values; `from_query` says which. Returns an object holding every declared
// parameter that has a value (given or default), typed: bool, int64, or string (string, date).
// Refuses a name the spec does not declare, a value of another type, an int outside min..max, a
// date that is not YYYY-MM-DD. A date default of "today" or "yesterday" becomes the date, UTC, of
// `today` (days since 1970-01-01; the current day when not given); a random_hex default is new
// random digits. Windows are checked apart,
// on the parameters as a whole (check_windows).
boost::system::result<boost::json::object, param_error> check_params(
    const pipeline_spec& spec, const boost::json::object& given, bool from_query,
    std::optional<std::int32_t> today = std::nullopt);

// Day windows a task may be cut into at most (about 274 years of days).
inline constexpr std::int64_t max_windows = 100'000;

// A windowed task's day windows: the first day (days since 1970-01-01) and how many.
struct window_range {
  std::int32_t first_day = 0;
  std::int64_t days = 0;
};

// In a windowed pipeline, refuses checked `params` whose end is not after their start, or that
// span more than max_windows days.
std::optional<param_error> check_windows(const pipeline_spec& spec,
                                         const boost::json::object& params);

// The window range of checked `params` (check_params's output) for `spec`'s windows; nullopt
// when the spec has none or the params lack them.
std::optional<window_range> window_range_of(const pipeline_spec& spec,
                                            const boost::json::object& params);

}  // namespace etl
