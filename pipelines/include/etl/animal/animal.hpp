// The animal model: what the animals API sends (listing items, details), what home accepts
// (`home_animal`), and how a record that fails validation is described and kept (`rejection`,
// `rejected_record`).
//
// Plain data only; parsing lives in parse.hpp, the detail -> home transform in transform.hpp and
// the JSON sent to home in home_payload.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>

namespace etl {

// The range of `born_at` we accept, in milliseconds since the Unix epoch:
// 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, the instants ISO 8601 writes with a
// four-digit year. Values before 1970 are negative and valid.
inline constexpr std::int64_t born_at_min_ms = -62'135'596'800'000;
inline constexpr std::int64_t born_at_max_ms = 253'402'300'799'999;

constexpr bool born_at_in_range(std::int64_t ms) noexcept {
  return ms >= born_at_min_ms && ms <= born_at_max_ms;
}

// Why a body or a record was refused: the field at fault ("id", "born_at", ...; "body" for the
// document as a whole, "record" for a listing item that is not an object) and what is wrong
// with it, in words an operator can act on.
struct rejection {
  std::string field;
  std::string problem;

  // One line, "<field>: <problem>", e.g. "born_at: must be an integer (milliseconds since the
  // epoch) or null, got string".
  std::string describe() const;

  bool operator==(const rejection&) const = default;
};

// Lets `result<T, rejection>::value()` throw (a std::runtime_error carrying describe()) when it
// is called on an error; found by argument-dependent lookup. Check the result instead.
[[noreturn]] void throw_exception_from_error(const rejection& r, const boost::source_location& loc);

// How much of a refused record's text is kept.
inline constexpr std::size_t raw_record_limit = 1024;

// A record that was refused, kept so the pipeline can store it: its id when that much was
// readable, the reason, and its text (see storable_raw).
struct rejected_record {
  std::optional<std::int64_t> id;
  rejection reason;
  std::string raw;

  bool operator==(const rejected_record&) const = default;
};

// `raw` made safe to store as text: at most `limit` bytes of it, cut on a UTF-8 character
// boundary, with bytes that are not valid UTF-8 and NUL bytes replaced by U+FFFD; a cut text
// ends with " ...[truncated, N bytes]". Never fails.
std::string storable_raw(std::string_view raw, std::size_t limit = raw_record_limit);

// A rejected_record whose raw text is storable_raw(raw).
rejected_record make_rejected_record(std::optional<std::int64_t> id, rejection reason,
                                     std::string_view raw);

// One item of a listing page: {"id", "name", "born_at"}.
struct listing_item {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::int64_t> born_at;  // ms since the epoch, within born_at_min_ms..max

  bool operator==(const listing_item&) const = default;
};

// A listing page: its valid items in order, and the items that failed validation one by one.
struct listing_page {
  std::int64_t page = 0;
  std::int64_t total_pages = 0;
  std::vector<listing_item> items;
  std::vector<rejected_record> rejected;

  bool operator==(const listing_page&) const = default;
};

// One animal's detail: the listing fields plus `friends`, a comma-separated string of names.
struct animal_detail {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::int64_t> born_at;  // ms since the epoch, within born_at_min_ms..max
  std::string friends;

  bool operator==(const animal_detail&) const = default;
};

// An animal as home wants it.
struct home_animal {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> friends;
  std::optional<std::int64_t> born_at_ms;  // sent as ISO 8601 UTC with milliseconds, or null

  bool operator==(const home_animal&) const = default;
};

}  // namespace etl
