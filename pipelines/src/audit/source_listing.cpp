#include "etl/audit/source_listing.hpp"

#include "etl/core/concurrently.hpp"
#include "etl/source/listing_fetch.hpp"

namespace etl {

net::awaitable<boost::system::result<source_listing, std::string>> list_source_ids(
    http_client& source, std::size_t concurrency) {
  auto first = co_await fetch_listing_page(source, 1);
  if (!first.page)
    co_return first.failure;
  source_listing listing;
  listing.total_pages = first.page->total_pages;
  std::vector<listing_fetch> pages(
      static_cast<std::size_t>(std::max<std::int64_t>(listing.total_pages, 1)));
  pages[0] = std::move(first);
  co_await for_each_concurrently(
      pages.size() - 1, concurrency, [&](std::size_t i) -> net::awaitable<void> {
        pages[i + 1] = co_await fetch_listing_page(source, static_cast<std::int64_t>(i) + 2);
      });
  for (auto& p : pages) {
    if (!p.page)
      co_return p.failure;
    for (const auto& item : p.page->items)
      listing.ids.push_back(item.id);
    for (const auto& r : p.page->rejected) {
      if (!r.id) {
        // Which id it stands for is unknown, so no id can be proven missing or unexpected.
        co_return "page " + std::to_string(p.page->page) +
            ": an item without a readable id on every read (" + r.reason.describe() + ")";
      }
      listing.ids.push_back(*r.id);
    }
  }
  co_return listing;
}

}  // namespace etl
