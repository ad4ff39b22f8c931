// Every id the source lists, read page by page: what etl-verify compares the audit dumps with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "etl/http/client.hpp"

namespace etl {

struct source_listing {
  std::int64_t total_pages = 0;
  std::vector<std::int64_t> ids;  // listing order, repeats kept
};

// Reads page 1 for total_pages, then every page, `concurrency` at a time. An id is taken from
// every item that has a readable one, valid or not. Fails with a sentence naming the page that
// could not be read after the client's retries, or that kept an item without a readable id.
net::awaitable<boost::system::result<source_listing, std::string>> list_source_ids(
    http_client& source, std::size_t concurrency);

}  // namespace etl
