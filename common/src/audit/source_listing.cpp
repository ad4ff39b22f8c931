#include "etl/audit/source_listing.hpp"

#include <optional>

#include "etl/animal/parse.hpp"
#include "etl/core/concurrently.hpp"

namespace etl {
namespace {

using page_result = boost::system::result<listing_page, std::string>;

net::awaitable<page_result> read_page(http_client& source, std::int64_t page_no) {
  const auto where = "page " + std::to_string(page_no) + ": ";
  // A page that answers 200 with a body that does not parse is read again a few times.
  std::string last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = co_await source.get("/animals/v1/animals?page=" + std::to_string(page_no));
    if (!r)
      co_return where + r.error().describe();
    if (r->status != 200)
      co_return where + "HTTP " + std::to_string(r->status);
    auto page = parse_listing_page(r->body);
    if (page)
      co_return std::move(*page);
    last = where + page.error().describe();
  }
  co_return last;
}

}  // namespace

net::awaitable<boost::system::result<source_listing, std::string>> list_source_ids(
    http_client& source, std::size_t concurrency) {
  auto first = co_await read_page(source, 1);
  if (!first)
    co_return first.error();
  source_listing listing;
  listing.total_pages = first->total_pages;
  std::vector<std::optional<page_result>> pages(
      static_cast<std::size_t>(std::max<std::int64_t>(listing.total_pages, 1)));
  pages[0] = std::move(first);
  co_await for_each_concurrently(
      pages.size() - 1, concurrency, [&](std::size_t i) -> net::awaitable<void> {
        pages[i + 1] = co_await read_page(source, static_cast<std::int64_t>(i) + 2);
      });
  for (auto& p : pages) {
    if (!*p)
      co_return p->error();
    for (const auto& item : (*p)->items)
      listing.ids.push_back(item.id);
    for (const auto& r : (*p)->rejected) {
      if (r.id)
        listing.ids.push_back(*r.id);
    }
  }
  co_return listing;
}

}  // namespace etl
