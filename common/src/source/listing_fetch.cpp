#include "etl/source/listing_fetch.hpp"

#include "etl/animal/parse.hpp"
#include "etl/core/text.hpp"

namespace etl {

net::awaitable<listing_fetch> fetch_listing_page(http_client& source, std::int64_t page_no) {
  listing_fetch out;
  const auto target = "/animals/v1/animals?page=" + std::to_string(page_no);
  const auto where =
      "page " + std::to_string(page_no) + " (GET " + source.origin() + target + "): ";
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
    if (parsed) {
      out.page = std::move(*parsed);
      co_return out;
    }
    out.failure = where + parsed.error().describe();
  }
  co_return out;
}

}  // namespace etl
