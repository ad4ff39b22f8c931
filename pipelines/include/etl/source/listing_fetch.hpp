// Reading one listing page of the animals API: the one place that knows its path, re-reads a
// page that answered 200 with a body that does not parse or with an item whose id cannot be
// read, and reports what it cost in retries and hedges. Used by the plan and batch jobs and by
// etl-verify.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "etl/animal/animal.hpp"
#include "etl/http/client.hpp"

namespace etl {

struct listing_fetch {
  std::optional<listing_page> page;  // set on success
  std::string failure;               // otherwise: "page N: <why>", for logs and task errors
  std::int64_t retries = 0;          // HTTP attempts beyond the first, re-reads included
  std::int64_t hedges = 0;           // hedged copies sent
};

// How often a page that answers 200 with an unparseable body, or with an item whose id cannot
// be read, is read in all: such ids are unknown, so nothing can be fetched or rejected in their
// place.
inline constexpr int listing_parse_attempts = 3;

// GETs /animals/v1/animals?page=N. Fails (page unset) when the client's retries are exhausted,
// the status is not 200, or the body did not parse on any of listing_parse_attempts reads. A
// page whose every read had an item without a readable id is returned as last read, that item
// in `rejected` with no id.
net::awaitable<listing_fetch> fetch_listing_page(http_client& source, std::int64_t page_no);

}  // namespace etl
