// The one id format the service hands out: a UUID in its canonical text form. Task ids become
// folder names and SQL parameters, so every value that claims to be one is checked here first.
#pragma once

#include <string_view>

namespace etl {

// True for the canonical 8-4-4-4-12 hexadecimal form Postgres prints (either case); false for
// anything else, path separators and dots included.
bool is_uuid(std::string_view text) noexcept;

// True for the form the service hands out and names folders with: is_uuid and lower case.
bool is_canonical_uuid(std::string_view text) noexcept;

}  // namespace etl
