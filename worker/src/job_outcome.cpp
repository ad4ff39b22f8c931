#include "etl/worker/job_outcome.hpp"

#include <charconv>

namespace etl {

std::string field(const job_fields& f, const std::string& name) {
  auto it = f.find(name);
  return it == f.end() ? std::string{} : it->second;
}

std::optional<int> int_field(const job_fields& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end())
    return std::nullopt;
  int v = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

}  // namespace etl
