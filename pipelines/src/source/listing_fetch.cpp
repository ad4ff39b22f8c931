#include "etl/source/listing_fetch.hpp"

#include <algorithm>

#include "etl/animal/parse.hpp"
#include "etl/core/text.hpp"

namespace etl {
namespace {

bool has_unknown_ids(const listing_page& page) {
  return std::any_of(page.rejected.begin(), page.rejected.end(),
                     [](const rejected_record& r) { return !r.id; });
}

}  // namespace

net::awaitable<listing_fetch> fetch_listing_page(http_client& source, std::int64_t page_no) {
  listing_fetch out;
  const auto target = "/animals/v1/animals?page=" + std::to_string(page_no);
  const auto where =
      "page " + std::to_string(page_no) + " (GET " + source.origin() + target + "): ";
  std::optional<listing_page> partial;  // a read with an item whose id is unreadable
  for (int read = 1; read <= listing_parse_attempts; ++read) {
    auto r = co_await source.get(target);
    if (!r) {
      out.failure = where + r.error().describe();
      co_return out;
    }
    out.retries += r->attempts - 1 + (read > 1 ? 1 : 0);
    out.hedges += r->hedges;
    if (r->status != 200) {
      out.failure =
          where + "HTTP " + std::to_string(r->status) + ": " + storable_text(r->body, 200);
      co_return out;
    }
    auto parsed = parse_listing_page(r->body);
    if (parsed && !has_unknown_ids(*parsed)) {
      out.page = std::move(*parsed);
      out.failure.clear();
      co_return out;
    }
    if (parsed) {
      // The source's own data would be bad on every read; a garbled answer may come back whole.
      partial = std::move(*parsed);
      out.failure = where + "an item without a readable id";
    } else {
      out.failure = where + parsed.error().describe();
    }
  }
  if (partial) {
    out.page = std::move(*partial);
    out.failure.clear();
  }
  co_return out;
}

}  // namespace etl
