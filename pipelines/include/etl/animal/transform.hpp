// The transform from an animal's detail to what home wants: `friends` split into a list and
// `born_at` written as an ISO 8601 UTC timestamp exact to the millisecond.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etl/animal/animal.hpp"

namespace etl {

// The comma-separated `friends` string as a list, in order: "" gives [], "A" gives ["A"].
// Empty pieces from doubled, leading or trailing commas ("A,,B", "A,", ",A") are dropped, since
// home has no use for a friend with an empty name; whitespace is kept as it is (the source puts
// none around commas).
std::vector<std::string> split_friends(std::string_view friends);

// The detail as home wants it: id and name unchanged, friends split, born_at kept as ms.
home_animal to_home(const animal_detail& detail);
home_animal to_home(animal_detail&& detail);

// Length of "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline constexpr std::size_t iso8601_ms_length = 24;

// Writes `ms` (since the Unix epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into `out`, exactly, also for
// negative values (-1 is 1969-12-31T23:59:59.999Z). Allocates nothing.
// Throws std::out_of_range when !born_at_in_range(ms): validated values never are.
void write_iso8601_ms(std::int64_t ms, std::span<char, iso8601_ms_length> out);

// The same as a string, e.g. 0 -> "1970-01-01T00:00:00.000Z".
// Throws std::out_of_range when !born_at_in_range(ms).
std::string format_iso8601_ms(std::int64_t ms);

}  // namespace etl
