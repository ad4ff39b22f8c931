// What the simulator's home endpoint accepts, checked the way the original's FastAPI/pydantic
// model does, with pydantic (v1) style verdicts: {"loc": [...], "msg": "...", "type": "..."}.
//
// The model: id an integer, name a string, friends a list of strings (all three required),
// born_at null/absent or an ISO 8601 datetime WITH a timezone. The simulator is strict where
// pydantic would coerce (a string id, a numeric name, a naive datetime): the ETL must send the
// right types, so the simulator refuses anything the original might read differently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

namespace etl {

struct sim_datetime_parse {
  std::optional<std::int64_t> micros;  // microseconds since the Unix epoch when valid
  std::string_view why;                // empty when valid, else what is wrong, for a person
};

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (1..9 fraction digits, like pydantic
// digits past the 6th are ignored) into the instant it names. Fails (micros empty, `why` set)
// for another shape, a field out of range (month 13, Feb 30, hour 24, offset >= 24h) or no
// timezone.
sim_datetime_parse parse_iso8601_micros(std::string_view text);

struct sim_int_parse {
  std::optional<std::int64_t> value;  // saturated at the int64 limits when `overflow`
  bool overflow = false;              // a valid integer beyond int64 (Python ints are unbounded)
  std::string literal;                // normalized decimal text ("+007" -> "7"), for echoing
};

// Parses a path or query integer as FastAPI (Python's int()) reads it: optional surrounding
// spaces, an optional sign, decimal digits. Fails (value empty) for anything else.
sim_int_parse parse_python_int(std::string_view text);

struct sim_home_animal {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> friends;
  std::optional<std::int64_t> born_at_micros;
};

struct sim_field_error {
  boost::json::array loc;  // e.g. ["body", 0, "born_at"]
  std::string msg;
  std::string type;
};

struct sim_home_validation {
  std::vector<sim_home_animal> animals;  // every item, when `errors` is empty
  std::vector<sim_field_error> errors;   // every problem found, as pydantic collects them all
  bool ok() const noexcept { return errors.empty(); }
};

// Validates the body of POST /animals/v1/home: a JSON array of animals (any length; the
// 100-item limit is the handler's). Never throws on bad input; every problem is an error entry.
sim_home_validation validate_home_body(std::string_view body);

// The 422 body for these errors: {"detail": [{"loc": ..., "msg": ..., "type": ...}, ...]}.
std::string validation_error_body(std::span<const sim_field_error> errors);

}  // namespace etl
