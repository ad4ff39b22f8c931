#include "etl/animal/animal.hpp"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "etl/core/text.hpp"

namespace etl {
std::string rejection::describe() const {
  return fmt::format("{}: {}", field, problem);
}

void throw_exception_from_error(const rejection& r, const boost::source_location& loc) {
  throw std::runtime_error(fmt::format("{} (at {}:{})", r.describe(), loc.file_name(), loc.line()));
}

std::string storable_raw(std::string_view raw, std::size_t limit) {
  return storable_text(raw, limit);
}

rejected_record make_rejected_record(std::optional<std::int64_t> id, rejection reason,
                                     std::string_view raw) {
  return rejected_record{id, std::move(reason), storable_raw(raw)};
}

}  // namespace etl
