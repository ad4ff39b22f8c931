#include "etl/worker/job_outcome.hpp"

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

}  // namespace etl
