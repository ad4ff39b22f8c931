#include "etl/sim/dataset.hpp"

#include <cassert>
#include <charconv>

namespace etl {
namespace {

// Salts keep the draws of one animal independent of each other.
enum : std::uint64_t {
  salt_name = 1,
  salt_born_null = 2,
  salt_born_value = 3,
  salt_friend_count = 4,
  salt_friend = 16,  // + index 0..4
  salt_total_pages = 100,
  salt_repeat = 101,
};

constexpr std::array<std::string_view, 100> names = {
    "Aardvark", "Albatross", "Alligator", "Alpaca",  "Antelope", "Armadillo", "Baboon",   "Badger",
    "Bat",      "Bear",      "Beaver",    "Bison",   "Boar",     "Buffalo",   "Camel",    "Caribou",
    "Cat",      "Cheetah",   "Chough",    "Cobra",   "Cougar",   "Coyote",    "Crab",     "Crane",
    "Crow",     "Deer",      "Dingo",     "Dog",     "Dolphin",  "Donkey",    "Dove",     "Duck",
    "Eagle",    "Eel",       "Elephant",  "Elk",     "Emu",      "Falcon",    "Ferret",   "Finch",
    "Flamingo", "Fox",       "Frog",      "Gazelle", "Gecko",    "Gerbil",    "Giraffe",  "Goat",
    "Goose",    "Gorilla",   "Hamster",   "Hare",    "Hawk",     "Hedgehog",  "Heron",    "Hippo",
    "Horse",    "Hyena",     "Ibis",      "Iguana",  "Jackal",   "Jaguar",    "Kangaroo", "Koala",
    "Lemur",    "Leopard",   "Lion",      "Llama",   "Lobster",  "Lynx",      "Magpie",   "Marten",
    "Meerkat",  "Mole",      "Moose",     "Mouse",   "Newt",     "Octopus",   "Otter",    "Owl",
    "Panda",    "Panther",   "Parrot",    "Pelican", "Penguin",  "Pigeon",    "Rabbit",   "Raccoon",
    "Raven",    "Salmon",    "Seal",      "Shark",   "Sloth",    "Swan",      "Tiger",    "Trout",
    "Turtle",   "Walrus",    "Wren",      "Zebra",
};

std::uint64_t mix(std::uint64_t x) noexcept {
  // splitmix64's finalizer: every input bit affects every output bit.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  assert(ec == std::errc{});
  out.append(buf, end);
}

}  // namespace

std::uint64_t sim_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b) noexcept {
  return mix(mix(mix(seed) ^ a) ^ b);
}

std::span<const std::string_view> sim_animal_names() noexcept {
  return names;
}

std::int64_t sim_default_total_pages(std::uint64_t seed) noexcept {
  return 500 + static_cast<std::int64_t>(sim_hash(seed, salt_total_pages, 0) % 101);
}

std::string sim_animal::friends_joined() const {
  std::string out;
  for (std::size_t i = 0; i < friend_count; ++i) {
    if (i > 0) {
      out += ',';
    }
    out += friends[i];
  }
  return out;
}

sim_dataset::sim_dataset(std::uint64_t seed, std::int64_t total_pages, std::int64_t born_at_max_ms,
                         unsigned repeat_percent)
    : seed_(seed),
      total_pages_(total_pages),
      born_at_max_ms_(born_at_max_ms),
      repeat_percent_(repeat_percent),
      listed_total_(total_pages * sim_page_size) {
  assert(total_pages >= 0);
  assert(born_at_max_ms > sim_born_at_min_ms);
  assert(repeat_percent <= 100);
  if (repeat_percent_ > 0) {
    for (std::int64_t page = 2; page <= total_pages_; ++page) {
      if (repeats_on(page)) {
        --listed_total_;
      }
    }
  }
}

bool sim_dataset::repeats_on(std::int64_t page) const noexcept {
  return repeat_percent_ > 0 && page >= 2 && page <= total_pages_ &&
         sim_hash(seed_, static_cast<std::uint64_t>(page), salt_repeat) % 100 < repeat_percent_;
}

bool sim_dataset::listed(std::int64_t id) const noexcept {
  return contains(id) &&
         !(id % sim_page_size == sim_page_size - 1 && repeats_on(id / sim_page_size + 1));
}

sim_animal sim_dataset::animal(std::int64_t id) const noexcept {
  assert(contains(id));
  const auto key = static_cast<std::uint64_t>(id);
  sim_animal a;
  a.id = id;
  a.name = names[sim_hash(seed_, key, salt_name) % names.size()];
  if (sim_hash(seed_, key, salt_born_null) % 6 == 0) {
    const auto span = static_cast<std::uint64_t>(born_at_max_ms_ - sim_born_at_min_ms);
    a.born_at_ms = sim_born_at_min_ms +
                   static_cast<std::int64_t>(sim_hash(seed_, key, salt_born_value) % span);
  }
  a.friend_count = sim_hash(seed_, key, salt_friend_count) % (sim_max_friends + 1);
  for (std::size_t i = 0; i < a.friend_count; ++i) {
    a.friends[i] = names[sim_hash(seed_, key, salt_friend + i) % names.size()];
  }
  return a;
}

void sim_dataset::append_item(std::string& out, const sim_animal& a, bool detail,
                              const sim_distortion& d) const {
  const auto distorted = [&](sim_field f, sim_distortion::kind k) {
    return d.what == k && d.field == f;
  };
  const auto missing = [&](sim_field f) { return distorted(f, sim_distortion::kind::missing); };
  const auto wrong = [&](sim_field f) { return distorted(f, sim_distortion::kind::wrong_type); };

  // Each field is written with a leading comma, and the first comma is dropped at the end:
  // that keeps a dropped field from leaving a dangling separator.
  const auto start = out.size();
  out += '{';
  if (!missing(sim_field::id)) {
    out += wrong(sim_field::id) ? ",\"id\":\"" : ",\"id\":";
    append_int(out, a.id);
    if (wrong(sim_field::id)) {
      out += '"';
    }
  }
  if (!missing(sim_field::name)) {
    out += ",\"name\":";
    if (wrong(sim_field::name)) {
      append_int(out, a.id);
    } else {
      out += '"';
      out += a.name;
      out += '"';
    }
  }
  if (!missing(sim_field::born_at)) {
    out += ",\"born_at\":";
    if (wrong(sim_field::born_at)) {
      // A string where a number or null belongs: the digits of the value, or a word.
      out += '"';
      if (a.born_at_ms) {
        append_int(out, *a.born_at_ms);
      } else {
        out += "never";
      }
      out += '"';
    } else if (a.born_at_ms) {
      append_int(out, *a.born_at_ms);
    } else {
      out += "null";
    }
  }
  if (detail && !missing(sim_field::friends)) {
    const bool as_list = wrong(sim_field::friends);
    out += as_list ? ",\"friends\":[" : ",\"friends\":\"";
    for (std::size_t i = 0; i < a.friend_count; ++i) {
      if (as_list) {
        out += i > 0 ? ",\"" : "\"";
        out += a.friends[i];
        out += '"';
      } else {
        if (i > 0) {
          out += ',';
        }
        out += a.friends[i];
      }
    }
    out += as_list ? "]" : "\"";
  }
  if (out.size() > start + 1) {
    out.erase(start + 1, 1);
  }
  out += '}';
}

void sim_dataset::append_detail_json(std::string& out, std::int64_t id,
                                     sim_distortion distortion) const {
  append_item(out, animal(id), true, distortion);
}

bool sim_dataset::append_listing_json(std::string& out, std::int64_t page,
                                      std::string_view page_literal,
                                      sim_distortion distortion) const {
  out += "{\"page\":";
  out += page_literal;
  out += ",\"total_pages\":";
  append_int(out, total_pages_);
  out += ",\"items\":[";
  bool applied = false;
  if (page >= 1 && page <= total_pages_) {
    const std::int64_t first = (page - 1) * sim_page_size;
    const auto faulty = static_cast<std::int64_t>(distortion.item % sim_page_size);
    for (std::int64_t i = 0; i < sim_page_size; ++i) {
      if (i > 0) {
        out += ',';
      }
      const bool hit = distortion.what != sim_distortion::kind::none && i == faulty;
      applied = applied || hit;
      // A repeating page shows the previous page's first animal in place of its last one.
      const std::int64_t id =
          i == sim_page_size - 1 && repeats_on(page) ? first - sim_page_size : first + i;
      append_item(out, animal(id), false, hit ? distortion : sim_distortion{});
    }
  }
  out += "]}";
  return applied;
}

}  // namespace etl
