#include "etl/worker/job_outcome.hpp"

#include <charconv>

#include "etl/db/db_error.hpp"

namespace etl {

job_outcome job_outcome::db_failure(std::string why, error_code ec) {
  why += ": " + ec.message();
  // Postgres down, restarting or failing over; a COMMIT cut off by it may or may not hold, and
  // every step is idempotent, so running the job again is safe.
  if (ec == db_errc::connection_failed || ec == db_errc::commit_in_doubt)
    return {job_verdict::wait, std::move(why)};
  return retry(std::move(why));
}

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
