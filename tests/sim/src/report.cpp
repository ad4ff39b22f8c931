#include "etl/sim/report.hpp"

#include <boost/json.hpp>

namespace etl {

sim_report::sim_report(const sim_dataset& data, bool verify)
    : data_(data),
      verify_(verify),
      received_bits_(static_cast<std::size_t>((data.total() + 63) / 64), 0) {}

void sim_report::count_post(bool failed) noexcept {
  posts_.fetch_add(1, std::memory_order_relaxed);
  if (failed) {
    posts_failed_.fetch_add(1, std::memory_order_relaxed);
  }
}

bool sim_report::take_post(std::span<const sim_home_animal> animals) {
  std::lock_guard lock(mutex_);
  for (const auto& posted : animals) {
    ++animals_posted_;
    if (!data_.contains(posted.id)) {
      ++unexpected_;
      if (first_unexpected_.size() < first_few) {
        first_unexpected_.push_back(posted.id);
      }
      if (verify_) {
        return false;
      }
      continue;
    }
    const auto index = static_cast<std::size_t>(posted.id);
    auto& word = received_bits_[index / 64];
    const std::uint64_t bit = std::uint64_t{1} << (index % 64);
    if ((word & bit) != 0) {
      ++duplicates_;
      if (first_duplicates_.size() < first_few) {
        first_duplicates_.push_back(posted.id);
      }
      if (verify_) {
        return false;
      }
    } else {
      word |= bit;
      ++received_;
      if (!data_.listed(posted.id)) {
        ++received_unlisted_;
      }
    }

    const sim_animal source = data_.animal(posted.id);
    if (posted.name != source.name) {
      ++mismatched_name_;
    }
    const auto friends = source.friend_list();
    if (!std::equal(posted.friends.begin(), posted.friends.end(), friends.begin(), friends.end())) {
      ++mismatched_friends_;
    }
    // The instant must be the source's millisecond exactly, so compare in microseconds.
    const auto source_micros = source.born_at_ms ? std::optional(*source.born_at_ms * 1000)
                                                 : std::optional<std::int64_t>();
    if (posted.born_at_micros != source_micros) {
      ++mismatched_born_at_;
    }
  }
  return true;
}

void sim_report::source_get_began() noexcept {
  const auto now = source_gets_in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
  auto max = source_gets_in_flight_max_.load(std::memory_order_relaxed);
  while (now > max && !source_gets_in_flight_max_.compare_exchange_weak(max, now)) {
  }
}

void sim_report::reset() {
  // The GETs in flight are not cleared: they end later and count themselves out.
  chaos_.reset();
  for (auto* c : {&requests_, &connections_, &posts_admitted_, &posts_refused_, &posts_,
                  &posts_failed_, &source_gets_in_flight_max_}) {
    c->store(0, std::memory_order_relaxed);
  }
  std::lock_guard lock(mutex_);
  std::fill(received_bits_.begin(), received_bits_.end(), 0);
  received_ = received_unlisted_ = 0;
  duplicates_ = unexpected_ = animals_posted_ = 0;
  mismatched_name_ = mismatched_friends_ = mismatched_born_at_ = 0;
  first_duplicates_.clear();
  first_unexpected_.clear();
}

std::int64_t sim_report::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::string sim_report::to_json() const {
  const auto load = [](const counter& c) { return c.load(std::memory_order_relaxed); };
  std::lock_guard lock(mutex_);
  boost::json::array first_missing;
  for (std::size_t w = 0; w < received_bits_.size() && first_missing.size() < first_few; ++w) {
    if (received_bits_[w] == ~std::uint64_t{0}) {
      continue;
    }
    for (std::size_t b = 0; b < 64 && first_missing.size() < first_few; ++b) {
      const auto id = static_cast<std::int64_t>(w * 64 + b);
      if (id < data_.total() && (received_bits_[w] & (std::uint64_t{1} << b)) == 0 &&
          data_.listed(id)) {
        first_missing.push_back(id);
      }
    }
  }
  boost::json::object report{
      {"total", data_.total()},
      {"total_pages", data_.total_pages()},
      {"verify", verify_},
      {"received", received_},
      {"duplicates", duplicates_},
      {"listed", data_.listed_total()},
      {"missing", data_.listed_total() - (received_ - received_unlisted_)},
      {"unexpected", unexpected_},
      {"mismatched",
       {{"name", mismatched_name_},
        {"friends", mismatched_friends_},
        {"born_at", mismatched_born_at_}}},
      {"animals_posted", animals_posted_},
      {"posts_admitted", load(posts_admitted_)},
      {"posts_refused", load(posts_refused_)},
      {"posts", load(posts_)},
      {"posts_failed", load(posts_failed_)},
      {"requests", load(requests_)},
      {"source_gets_in_flight_max", load(source_gets_in_flight_max_)},
      {"connections", load(connections_)},
      {"chaos", nullptr},  // filled by add_to below, in this place
      {"faults", nullptr},
      {"first_missing", std::move(first_missing)},
      {"first_duplicates", boost::json::value_from(first_duplicates_)},
      {"first_unexpected", boost::json::value_from(first_unexpected_)},
  };
  chaos_.add_to(report);
  if (capacity_ != nullptr) {
    report["capacity"] = capacity_->to_json();
  }
  return boost::json::serialize(report);
}

}  // namespace etl
