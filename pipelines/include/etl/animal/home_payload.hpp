// The body POSTed to home: a JSON array of transformed animals, written by hand into one string
// because it sits on the hot path (no intermediate JSON tree).
//
// Each animal is written as {"id":25,"name":"Chough","friends":["Falcon"],"born_at":null}, with
// born_at an ISO 8601 string ("2017-01-20T00:59:45.241Z") when present. Strings are escaped for
// JSON: quote and backslash with a backslash, control characters below 0x20 as \u00XX; every
// other byte, UTF-8 included, is copied as it is, so strings must be valid UTF-8 (what
// parse.hpp produces).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etl/animal/animal.hpp"

namespace etl {

// The most animals home accepts in one POST (more is answered with 400). The serializer does not
// enforce it: batching is the caller's job.
inline constexpr std::size_t home_batch_max = 100;

// The JSON array of `batch`, "[]" when empty.
// Throws std::out_of_range for a born_at_ms outside born_at_min_ms..max (a bug: to_home of a
// parsed detail never produces one).
std::string serialize_home_batch(std::span<const home_animal> batch);

// One POST to home: its body and how many animals it holds.
struct home_request {
  std::string body;
  std::size_t animals = 0;
};

// `animals` as POSTs of at most home_batch_max each, in order; none when empty. Throws as
// serialize_home_batch.
std::vector<home_request> home_requests(std::span<const home_animal> animals);

// Appends one animal's JSON object to `out`. Throws as serialize_home_batch.
void append_home_animal(std::string& out, const home_animal& animal);

// Appends `s` as a quoted, escaped JSON string to `out`.
void append_json_string(std::string& out, std::string_view s);

}  // namespace etl
