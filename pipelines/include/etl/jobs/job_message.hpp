// What every message on the job stream shares: its type, its version, and the one error a
// decoder returns. etl-server enqueues plan jobs and the workers enqueue batch jobs; each message
// has a header of its own (plan_message.hpp, batch_message.hpp) with its struct, its encoder and
// its decoder side by side, so the two ends cannot drift apart.
//
// On the stream a message is the flat field map job_queue carries (readable with redis-cli
// XRANGE): `type`, `v` (the version) and the message's own fields. A decoder ignores fields it
// does not know (a dead-letter entry adds reason, deliveries, job_id and stream) and refuses a
// version newer than its own, so a worker older than the server that queued the job says so
// instead of guessing. An entry without `v` was queued before versions existed; it reads as
// version 1, whose fields it has.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "etl/queue/job_queue.hpp"

namespace etl {

enum class job_type { plan, batch };

// "plan" or "batch": the `type` field.
std::string_view to_string(job_type type) noexcept;

// Why a stream entry is not a message this binary can run, in words for the log and the task.
struct message_error {
  std::string message;  // e.g. "batch job: field 'first_page' is missing"
};

template <class T>
using message_result = boost::system::result<T, message_error>;

[[noreturn]] void throw_exception_from_error(const message_error& e,
                                             const boost::source_location& loc);

// The type of the message in `fields`: fails for a missing or unknown `type`.
message_result<job_type> job_type_of(const job_fields& fields);

// The task a message belongs to (its `task` field), whatever its type or version; empty when
// absent. For reporting an entry that cannot be decoded.
std::string task_of(const job_fields& fields);

namespace detail {

// Reads one message's fields for its decoder: checks `type` and `v` on construction, then
// each accessor reads a field or records the first problem; error() holds it afterwards.
class field_reader {
 public:
  field_reader(const job_fields& fields, job_type type, int version);

  std::string text(std::string_view name);
  // A text field the message gained in `since`: required from that version on, `fallback` for
  // an entry of an older version.
  std::string text_since(int since, std::string_view name, std::string fallback);
  std::int64_t integer(std::string_view name, std::int64_t min, std::int64_t max);
  bool flag(std::string_view name);
  // The entry's version (1 for an entry without `v`).
  int version() const noexcept { return version_; }
  // The problem found so far, "<type> job: <what>".
  const std::optional<message_error>& error() const noexcept { return error_; }

 private:
  const std::string* find(std::string_view name);
  void fail(std::string what);

  const job_fields& fields_;
  job_type type_;
  int version_ = 1;  // the entry's
  std::optional<message_error> error_;
};

}  // namespace detail
}  // namespace etl
