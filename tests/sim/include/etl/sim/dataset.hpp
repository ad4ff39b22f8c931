// The simulator's animals: each one is computed from a hash of (seed, id) when it is asked for,
// so a run of a million animals costs no memory, and the same seed always gives the same data.
//
// This is an independent implementation of the upstream's data (see docs/animals-api.md): it
// does not use the ETL's animal model, so the ETL is checked against values computed apart.
// The JSON writers are hand-written for the GET hot path (no boost::json values built).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace etl {

inline constexpr std::int64_t sim_page_size = 10;
// born_at values lie in [sim_born_at_min_ms, upper bound): 1987-01-01T00:00:00Z ...
inline constexpr std::int64_t sim_born_at_min_ms = 536'457'600'000;
// ... and, with a fixed seed, 2026-01-01T00:00:00Z, so that data depend on the seed only.
inline constexpr std::int64_t sim_seeded_born_at_max_ms = 1'767'225'600'000;
inline constexpr std::size_t sim_max_friends = 5;

// A well-mixed 64-bit hash of (seed, a, b): the simulator's only source of randomness.
std::uint64_t sim_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b) noexcept;

// The ~100 common animal names the data draw from (plain ASCII letters: no JSON escaping).
std::span<const std::string_view> sim_animal_names() noexcept;

// The number of pages a seed gives when --pages is not set: 500..600 like the original.
std::int64_t sim_default_total_pages(std::uint64_t seed) noexcept;

struct sim_animal {
  std::int64_t id = 0;
  std::string_view name;
  std::optional<std::int64_t> born_at_ms;  // null for about 5 animals in 6
  std::array<std::string_view, sim_max_friends> friends{};
  std::size_t friend_count = 0;  // 0..5

  std::span<const std::string_view> friend_list() const noexcept {
    return {friends.data(), friend_count};
  }
  // The detail's "friends" value: names joined with "," without spaces, "" when none.
  std::string friends_joined() const;
};

// How a fault distorts one record of an answer: a field with the wrong JSON type or missing.
enum class sim_field { id, name, born_at, friends };
struct sim_distortion {
  enum class kind { none, wrong_type, missing };
  kind what = kind::none;
  sim_field field = sim_field::id;
  std::size_t item = 0;  // which item of a listing page (taken modulo the page's length)
};

class sim_dataset {
 public:
  // `total_pages` pages of 10 animals, ids 0..total-1; born_at values in
  // [sim_born_at_min_ms, born_at_max_ms). Requires total_pages >= 0 and a bound above the minimum.
  //
  // `repeat_percent` (0..100) of the pages from the second on repeat an id, the way a listing
  // that drifts while it is paged does: the page's last item is replaced by the first animal of
  // the page before. The replaced animal is then listed nowhere ("unlisted"); it still has a
  // detail. Which pages repeat depends on the seed and the page only.
  sim_dataset(std::uint64_t seed, std::int64_t total_pages, std::int64_t born_at_max_ms,
              unsigned repeat_percent = 0);

  std::uint64_t seed() const noexcept { return seed_; }
  std::int64_t total_pages() const noexcept { return total_pages_; }
  std::int64_t total() const noexcept { return total_pages_ * sim_page_size; }
  std::int64_t born_at_max_ms() const noexcept { return born_at_max_ms_; }
  bool contains(std::int64_t id) const noexcept { return id >= 0 && id < total(); }
  // Whether `page` repeats the first id of the page before (see the constructor).
  bool repeats_on(std::int64_t page) const noexcept;
  // Whether the listing shows `id` (false for ids a repeating page replaced, and unknown ids).
  bool listed(std::int64_t id) const noexcept;
  // How many distinct ids the listing shows: total() minus the replaced ones.
  std::int64_t listed_total() const noexcept { return listed_total_; }

  // The animal with this id. Precondition: contains(id).
  sim_animal animal(std::int64_t id) const noexcept;

  // Appends the detail body of animal `id` ({"id","name","born_at","friends"}, compact JSON as
  // FastAPI writes it), distorted as asked. Precondition: contains(id).
  void append_detail_json(std::string& out, std::int64_t id, sim_distortion distortion = {}) const;

  // Appends the listing body of `page` (1-based; pages outside 1..total_pages have no items).
  // `page_literal` is the decimal text echoed as "page" (the request's value, which may not fit
  // an int64). A distortion applies to one item; it is ignored on an empty page. Returns whether
  // it was applied.
  bool append_listing_json(std::string& out, std::int64_t page, std::string_view page_literal,
                           sim_distortion distortion = {}) const;

 private:
  void append_item(std::string& out, const sim_animal& a, bool detail,
                   const sim_distortion& distortion) const;

  std::uint64_t seed_;
  std::int64_t total_pages_;
  std::int64_t born_at_max_ms_;
  unsigned repeat_percent_;
  std::int64_t listed_total_;
};

}  // namespace etl
