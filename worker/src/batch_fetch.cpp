#include "etl/worker/batch_fetch.hpp"

#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "etl/animal/parse.hpp"
#include "etl/animal/transform.hpp"
#include "etl/core/concurrently.hpp"
#include "etl/source/listing_fetch.hpp"

namespace etl {

void throw_exception_from_error(const fetch_failure& f, const boost::source_location&) {
  throw std::runtime_error(f.reason);
}

namespace {

struct detail_outcome {
  std::optional<home_animal> animal;
  std::optional<rejected_record> rejected;
  std::string failure;  // the batch fails
  bool answered = false;
  std::int64_t retries = 0, hedges = 0;
};

net::awaitable<detail_outcome> fetch_detail(http_client& source, std::int64_t id) {
  detail_outcome out;
  auto r = co_await source.get("/animals/v1/animals/" + std::to_string(id));
  if (!r) {
    const auto& f = r.error();
    out.retries = f.attempts - 1;
    if (f.last_status == 500 && f.same_status_throughout) {
      // The original answers 500 for an id it has no animal for; a 500 on every attempt means
      // it is the record that is bad, not the network. Chaos answers 500 too, but a run of
      // attempts that met other failures as well (502, a reset, a timeout) proves nothing
      // about the record: the batch fails and is retried.
      out.rejected = make_rejected_record(
          id, {"detail", "HTTP 500 on every attempt: " + f.describe()}, f.last_body);
    } else {
      out.failure = "animal " + std::to_string(id) + ": " + f.describe();
    }
    co_return out;
  }
  out.retries = r->attempts - 1;
  out.hedges = r->hedges;
  out.answered = true;
  if (r->status != 200) {
    out.rejected = make_rejected_record(
        id, {"detail", "HTTP " + std::to_string(r->status) + " from the source"}, r->body);
    co_return out;
  }
  auto detail = parse_detail(r->body);
  if (!detail) {
    out.rejected = make_rejected_record(id, detail.error(), r->body);
  } else if (detail->id != id) {
    out.rejected = make_rejected_record(
        id, {"id", "detail of " + std::to_string(id) + " names id " + std::to_string(detail->id)},
        r->body);
  } else {
    out.animal = to_home(std::move(*detail));
  }
  co_return out;
}

}  // namespace

net::awaitable<fetch_result> fetch_batch(http_client& source, int first_page, int last_page,
                                         std::size_t concurrency) {
  fetched_batch batch;
  const auto page_count = static_cast<std::size_t>(std::max(last_page - first_page + 1, 0));
  std::vector<listing_fetch> pages(page_count);
  co_await for_each_concurrently(
      page_count, concurrency, [&](std::size_t i) -> net::awaitable<void> {
        pages[i] = co_await fetch_listing_page(source, first_page + static_cast<std::int64_t>(i));
      });

  std::vector<std::int64_t> ids;
  std::unordered_set<std::int64_t> seen;
  for (auto& p : pages) {
    batch.retries += p.retries;
    batch.hedges += p.hedges;
    if (!p.page)
      co_return fetch_failure{p.failure};
    ++batch.pages;
    for (auto& item : p.page->items) {
      if (seen.insert(item.id).second) {
        ids.push_back(item.id);
      } else {
        ++batch.repeated;
      }
    }
    // A listing item with a readable id is judged by its detail, which is what gets posted;
    // one without an id cannot be fetched and is rejected here.
    for (auto& r : p.page->rejected) {
      if (!r.id) {
        batch.rejected.push_back(std::move(r));
      } else if (seen.insert(*r.id).second) {
        ids.push_back(*r.id);
      } else {
        ++batch.repeated;
      }
    }
  }

  std::vector<detail_outcome> details(ids.size());
  co_await for_each_concurrently(ids.size(), concurrency,
                                 [&](std::size_t i) -> net::awaitable<void> {
                                   details[i] = co_await fetch_detail(source, ids[i]);
                                 });
  batch.animals.reserve(ids.size());
  for (auto& d : details) {
    batch.retries += d.retries;
    batch.hedges += d.hedges;
    batch.fetched += d.answered ? 1 : 0;
    if (!d.failure.empty())
      co_return fetch_failure{d.failure};
    if (d.animal)
      batch.animals.push_back(std::move(*d.animal));
    if (d.rejected)
      batch.rejected.push_back(std::move(*d.rejected));
  }
  co_return batch;
}

}  // namespace etl
