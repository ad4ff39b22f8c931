// Records made typed by a spec's fields (transform.fields): the generic transform every pipeline
// without a hand-written model goes through. Each field is read from its `from` path in the
// record, checked against its type, and normalized; a record with a value that does not fit is
// rejected with the field and the reason, never cast silently.
#pragma once

#include <chrono>
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

// What secret_hash fields are hashed with: the salt read from the spec's environment variable
// (never logged) and the rounds.
struct transform_secrets {
  std::string salt;
  int iterations = 0;
};

// `record` typed by `fields`. Rejects (field name and why): a missing or null value in a
// non-nullable field, a value of another JSON type, an int below `min`, a date or date-time that
// is not one, epoch milliseconds outside years 1..9999, a `from` path through a non-object.
// Derived fields are computed: a stable_key from its `key_of` values (nulls included), a
// secret_hash from its text or number with `secrets` (required when a field is one: a
// std::logic_error otherwise, since the worker checks for the salt before any record).
record_result type_record(const boost::json::object& record, std::span<const field_spec> fields,
                          const transform_secrets* secrets = nullptr);

// A record typed with its child tables' rows (spec.children, in order).
struct typed_rows {
  typed_record record;
  std::vector<std::vector<typed_record>> children;
  std::int64_t skipped = 0;  // child entries left out by their table's skip_null
};

using rows_result = boost::system::result<typed_rows, rejection>;

// `record` typed by `spec.fields`, and each child table's array exploded into rows: the parent
// fields copied, the index, the entry's own fields typed. A bad entry rejects the whole record
// ("cores[2].flight: ..."), so a parent never loads without its children. A missing or null
// array gives no rows; an entry whose skip_null value is null is counted, not a row.
rows_result type_rows(const boost::json::object& record, const pipeline_spec& spec,
                      const transform_secrets* secrets = nullptr);

// The records that survive a merge by `key` (field names): of records with equal keys the last
// one, each kept where its key last occurred. `fields` are the records' columns.
std::vector<typed_record> merge_by_key(std::span<const field_spec> fields,
                                       std::span<const std::string> key,
                                       std::span<const typed_record> records);

// What merge_by_key compares: the values of `r` at positions `key_at`, as one JSON text.
std::string merge_key(const typed_record& r, std::span<const std::size_t> key_at);

// The value at `path` in `record`: null when a key along it is missing; an error naming the key
// when a step that is not the last lands on something other than an object.
boost::system::result<const boost::json::value*, std::string> value_at(
    const boost::json::object& record, std::span<const std::string> path);

// The positions of `names` among `fields`, in the order of `names` (a sink's columns). Throws
// std::logic_error for a name that is not a field: the spec loader refuses such a spec.
std::vector<std::size_t> field_indexes(std::span<const field_spec> fields,
                                       std::span<const std::string> names);

// A typed value as key text: a string as is, null as "", anything else as JSON writes it (what
// a CSV cell of the value holds).
std::string key_text(const boost::json::value& v);

// Drops the `records` an earlier task of the incremental `spec` delivered: those whose cursor
// field is exactly `start` and whose key is among `keys` (the upstream filters with >=, so the
// start is read again). Returns how many were dropped.
std::size_t drop_delivered(std::vector<typed_record>& records, const pipeline_spec& spec,
                           std::string_view start, std::span<const std::string> keys);

// "YYYY-MM-DD" with a real month and day.
bool is_date(std::string_view text) noexcept;

// ISO 8601 date-time with seconds, optional fraction, and Z or a +hh:mm / -hh:mm offset.
bool is_date_time(std::string_view text) noexcept;

// Days since 1970-01-01 of a YYYY-MM-DD date; nullopt unless is_date.
std::optional<std::int32_t> date_days(std::string_view text) noexcept;

// The day of `t`, UTC, counted from 1970-01-01.
std::int32_t utc_day(std::chrono::system_clock::time_point t);

// "YYYY-MM-DD" of a day counted from 1970-01-01 (the inverse of date_days).
std::string date_text(std::int32_t days);

// Microseconds since 1970-01-01T00:00:00Z of an is_date_time text, its offset applied (a fraction
// beyond microseconds is cut); nullopt unless is_date_time.
std::optional<std::int64_t> date_time_micros(std::string_view text) noexcept;

}  // namespace etl
