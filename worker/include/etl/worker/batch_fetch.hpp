// The extract and transform half of a batch job: fetch the batch's listing pages and every
// animal's detail concurrently, validate, transform to home's shape. No database, no queue:
// what to post and what was rejected, with the counts the task reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "etl/animal/animal.hpp"
#include "etl/http/client.hpp"

namespace etl {

struct fetched_batch {
  std::vector<home_animal> animals;       // valid and transformed, listing order, ids unique
  std::vector<rejected_record> rejected;  // listing items or details that failed validation
  std::int64_t pages = 0;                 // listing pages fetched
  std::int64_t fetched = 0;               // details fetched (answered, valid or not)
  std::int64_t repeated = 0;              // ids the listing gave more than once in the batch
  std::int64_t retries = 0;               // HTTP attempts beyond the first, all requests
  std::int64_t hedges = 0;                // hedged copies sent
};

// A failure that makes the whole batch worth trying again later (the job is redelivered):
// a listing page that could not be fetched or parsed, or a detail whose source is unreachable.
struct fetch_failure {
  std::string reason;
};

[[noreturn]] void throw_exception_from_error(const fetch_failure& f,
                                             const boost::source_location& loc);

using fetch_result = boost::system::result<fetched_batch, fetch_failure>;

// Fetches pages first_page..last_page and the details of their animals, at most `concurrency`
// requests at once. A detail that is invalid, or answers 500 on every attempt (the source's
// answer for an id it cannot serve), is rejected with the reason; any other fetch failure fails
// the batch with a fetch_failure naming the page or id.
net::awaitable<fetch_result> fetch_batch(http_client& source, int first_page, int last_page,
                                         std::size_t concurrency);

}  // namespace etl
