// Records made typed by a spec's fields (transform.fields): the generic transform every pipeline
// without a hand-written model goes through. Each field is read from its `from` path in the
// record, checked against its type, and normalized; a record with a value that does not fit is
// rejected with the field and the reason, never cast silently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include "etl/animal/animal.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

// One value per field of the spec, in the spec's order. Values are JSON: null, int64 (int),
// double (number), string (string, date_time as written, date, epoch_ms as ISO 8601 UTC with
// milliseconds), bool, or an array of strings (string_list).
struct typed_record {
  std::vector<boost::json::value> values;
};

using record_result = boost::system::result<typed_record, rejection>;

// `record` typed by `fields`. Rejects (field name and why): a missing or null value in a
// non-nullable field, a value of another JSON type, an int below `min`, a date or date-time that
// is not one, epoch milliseconds outside years 1..9999, a `from` path through a non-object.
record_result type_record(const boost::json::object& record, std::span<const field_spec> fields);

// The value at `path` in `record`: null when a key along it is missing; an error naming the key
// when a step that is not the last lands on something other than an object.
boost::system::result<const boost::json::value*, std::string> value_at(
    const boost::json::object& record, std::span<const std::string> path);

// The positions of `names` among `fields`, in the order of `names` (a sink's columns). Throws
// std::logic_error for a name that is not a field: the spec loader refuses such a spec.
std::vector<std::size_t> field_indexes(std::span<const field_spec> fields,
                                       std::span<const std::string> names);

// "YYYY-MM-DD" with a real month and day.
bool is_date(std::string_view text) noexcept;

// ISO 8601 date-time with seconds, optional fraction, and Z or a +hh:mm / -hh:mm offset.
bool is_date_time(std::string_view text) noexcept;

// Days since 1970-01-01 of a YYYY-MM-DD date; nullopt unless is_date.
std::optional<std::int32_t> date_days(std::string_view text) noexcept;

// Microseconds since 1970-01-01T00:00:00Z of an is_date_time text, its offset applied (a fraction
// beyond microseconds is cut); nullopt unless is_date_time.
std::optional<std::int64_t> date_time_micros(std::string_view text) noexcept;

}  // namespace etl
