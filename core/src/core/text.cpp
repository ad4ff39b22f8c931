#include "etl/core/text.hpp"

#include <fmt/format.h>

namespace etl {
namespace {

constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

// The length of the valid UTF-8 sequence that starts `s`, or 0 when it is not one (overlong
// forms, surrogates and values above U+10FFFF are invalid, as in RFC 3629). NUL counts as invalid
// because text columns cannot hold it.
std::size_t valid_sequence_length(std::string_view s) noexcept {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 == 0) {
    return 0;
  }
  if (b0 < 0x80) {
    return 1;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) {
      lo = 0xA0;
    } else if (b0 == 0xED) {
      hi = 0x9F;
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) {
      lo = 0x90;
    } else if (b0 == 0xF4) {
      hi = 0x8F;
    }
  } else {
    return 0;
  }
  if (s.size() < len) {
    return 0;
  }
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) {
    return 0;
  }
  for (std::size_t i = 2; i < len; ++i) {
    if (!is_continuation(static_cast<unsigned char>(s[i]))) {
      return 0;
    }
  }
  return len;
}

}  // namespace

std::string storable_text(std::string_view text, std::size_t limit) {
  std::string out;
  out.reserve(std::min(text.size(), limit));
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t len = valid_sequence_length(text.substr(pos));
    const std::string_view piece = len == 0 ? replacement_char : text.substr(pos, len);
    if (out.size() + piece.size() > limit) {
      break;
    }
    out += piece;
    pos += len == 0 ? 1 : len;
  }
  if (pos < text.size()) {
    out += fmt::format(" ...[truncated, {} bytes]", text.size());
  }
  return out;
}

}  // namespace etl
