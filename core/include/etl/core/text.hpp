// Text from the outside (upstream bodies, records, error answers) made safe to store and log:
// Postgres text and jsonb columns refuse invalid UTF-8 and NUL bytes, so every such text goes
// through storable_text before it reaches a row.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace etl {

// `text` made safe to store as text: at most `limit` bytes of it, cut on a UTF-8 character
// boundary, with bytes that are not valid UTF-8 and NUL bytes replaced by U+FFFD; a cut text
// ends with " ...[truncated, N bytes]" (N: the whole text's size). Never fails.
std::string storable_text(std::string_view text, std::size_t limit);

}  // namespace etl
