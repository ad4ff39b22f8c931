// The typed options a binary declares in an option_set, and the value syntaxes they accept:
//   integer   decimal, within the option's range                  "64"
//   boolean   true/false, 1/0, yes/no (any case)                  "yes"
//   duration  a whole number with a unit ms, s, m or h; "0" alone  "250ms", "20s", "2m"
//             (a bare number is rejected rather than guessed: is "20" seconds or ms?)
//   number    decimal, within the option's range                  "0.1"
//   choice    one of a fixed list of words                        "json"
//   url       an absolute URL with an allowed scheme (parse_url)  "http://127.0.0.1:3123"
//   address   host:port (parse_host_port)                         "127.0.0.1:8000"
// Each factory returns an option_spec whose parser phrases its error so that it follows the
// option's name: "ETL_CONCURRENCY: must be an integer from 1 to 4096, got 'lots'".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/config/option_set.hpp"

namespace etl {

// The value syntaxes on their own; each returns nothing for text it does not accept.
std::optional<bool> parse_bool(std::string_view text) noexcept;
std::optional<std::int64_t> parse_integer(std::string_view text) noexcept;
std::optional<milliseconds> parse_duration(std::string_view text) noexcept;
std::optional<double> parse_number(std::string_view text) noexcept;  // finite only

// A duration in the largest unit that writes it exactly: 20000ms -> "20s", 1500ms -> "1500ms".
std::string format_duration(milliseconds d);

// Free text; an empty value is rejected. Unset by default when `default_value` is nothing.
option_spec string_option(std::string name, std::optional<std::string> default_value,
                          std::string help);

// A credential: unset by default, printable ASCII without spaces, never shown in help or in
// error messages.
option_spec secret_option(std::string name, std::string help);

option_spec int_option(std::string name, std::int64_t default_value, std::int64_t min,
                       std::int64_t max, std::string help);

option_spec bool_option(std::string name, bool default_value, std::string help);

// A duration within [min, max]; unset by default when `default_value` is nothing.
option_spec duration_option(std::string name, std::optional<milliseconds> default_value,
                            milliseconds min, milliseconds max, std::string help);

option_spec number_option(std::string name, double default_value, double min, double max,
                          std::string help);

// One of `choices` (exact, case-sensitive); `default_value` must be one of them.
option_spec choice_option(std::string name, std::string default_value,
                          std::vector<std::string> choices, std::string help);

// An absolute URL whose scheme is one of `schemes` (lower case), checked with parse_url.
// Unset by default when `default_value` is nothing.
option_spec url_option(std::string name, std::optional<std::string> default_value,
                       std::vector<std::string> schemes, std::string help);

// A listen address host:port, checked with parse_host_port.
option_spec address_option(std::string name, std::string default_value, std::string help);

}  // namespace etl
