// The project's own error category: the expected failures that are not system errors.
//
// Functions return `etl::result<T>` or an `error_code` built from `etl::errc`; the message of
// each code says what went wrong in words an operator can act on. Details that do not fit a code
// (which field, which status) travel beside it, e.g. in `http::request_error`.
#pragma once

#include <string>
#include <type_traits>

#include "etl/core/aliases.hpp"

namespace etl {

enum class errc {
  ok = 0,
  invalid_argument,   // a caller passed a value outside the contract
  invalid_url,        // a URL that does not parse or uses an unsupported scheme
  invalid_config,     // an environment variable or flag with a bad value
  parse_error,        // a body that is not the JSON we expect
  validation_failed,  // a record with a missing or wrongly typed field
  http_status,        // the peer answered with a status we treat as a failure
  retries_exhausted,  // every attempt of a retried operation failed
  timeout,            // a step or a whole request outlived its deadline
  deadline_exceeded,  // the whole request's deadline passed
  cancelled,          // the operation was abandoned on purpose (shutdown, a hedge lost)
  body_too_large,     // a body above the configured limit
};

// The category of `etl::errc`; its name is "etl".
const boost::system::error_category& etl_category() noexcept;

inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), etl_category()};
}

}  // namespace etl

template <>
struct boost::system::is_error_code_enum<etl::errc> : std::true_type {};
