// The error category of the Redis client and the job queue: the expected failures of talking to
// Redis (unreachable, connection lost, an error answer, an answer of the wrong shape).
//
// A code says what kind of failure happened; the words Redis sent back (an "-ERR ..." answer)
// are logged where they arrive and, for a single command, kept in the `reply` itself.
#pragma once

#include <type_traits>

#include "etl/core/aliases.hpp"

namespace etl {

enum class redis_errc {
  ok = 0,
  connect_failed,    // no connection could be made (refused, unreachable, AUTH/SELECT failed)
  backing_off,       // not tried: the last connect attempt failed moments ago
  connection_lost,   // the connection broke during a command (EOF, reset, I/O error)
  timeout,           // connect or command outlived its timeout
  server_error,      // Redis answered with an error ("-ERR ...", "-NOGROUP ...")
  unexpected_reply,  // an answer whose shape the caller did not expect
  protocol_error,    // bytes that are not RESP
};

// The category of `etl::redis_errc`; its name is "redis".
const boost::system::error_category& redis_category() noexcept;

inline error_code make_error_code(redis_errc e) noexcept {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace etl

template <>
struct boost::system::is_error_code_enum<etl::redis_errc> : std::true_type {};
