#include "etl/core/uuid.hpp"

namespace etl {

bool is_uuid(std::string_view text) noexcept {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool is_canonical_uuid(std::string_view text) noexcept {
  if (!is_uuid(text))
    return false;
  for (const char c : text) {
    if (c >= 'A' && c <= 'F')
      return false;
  }
  return true;
}

}  // namespace etl
