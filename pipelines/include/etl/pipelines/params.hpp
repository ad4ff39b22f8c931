// A trigger's parameters checked against its pipeline's spec: every name declared, every value
// of its type and range, the defaults filled in. The API calls it before a task exists, so a
// bad parameter is a 400 naming what to fix, never a task that fails later.
#pragma once

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
// date that is not YYYY-MM-DD.
boost::system::result<boost::json::object, param_error> check_params(
    const pipeline_spec& spec, const boost::json::object& given, bool from_query);

}  // namespace etl
