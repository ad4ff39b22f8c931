#include "etl/sim/crunchbase_data.hpp"

#include <array>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/sim/dataset.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {
namespace {

namespace bj = boost::json;
using std::chrono::sys_seconds;
using namespace std::chrono_literals;

enum : std::uint64_t {
  salt_org = 0x4372756e63680001ULL,
  salt_uuid,
  salt_cluster,
  salt_change,
  salt_change_second,
  salt_entity,
  salt_image,
};

constexpr std::chrono::seconds two_years{2 * 365 * 86400};

struct place {
  std::string_view city, region, country, continent;
};
constexpr std::array<place, 10> places = {{
    {"London", "England", "United Kingdom", "Europe"},
    {"Berlin", "Berlin", "Germany", "Europe"},
    {"São Paulo", "Sao Paulo", "Brazil", "South America"},
    {"San Francisco", "California", "United States", "North America"},
    {"Bengaluru", "Karnataka", "India", "Asia"},
    {"Zürich", "Zurich", "Switzerland", "Europe"},
    {"Lagos", "Lagos", "Nigeria", "Africa"},
    {"Sydney", "New South Wales", "Australia", "Oceania"},
    {"Montréal", "Quebec", "Canada", "North America"},
    {"Tel Aviv", "Tel Aviv", "Israel", "Asia"},
}};
constexpr std::array<std::string_view, 8> categories = {
    "Software",      "FinTech", "Health Care", "E-Commerce", "Artificial Intelligence (AI)",
    "Biotechnology", "SaaS",    "Education"};
constexpr std::array<std::string_view, 12> syllables = {
    "ana", "vara", "cert", "ify", "lumo", "nex", "tera", "qui", "zen", "bolt", "ora", "mint"};
constexpr std::array<std::string_view, 6> suffixes = {"",      " Limited", " Inc",
                                                      " GmbH", " Labs",    " Technologies"};
// Names a client must store as they are.
constexpr std::array<std::string_view, 7> unicode_names = {
    "Société Numérique", "Müller & Söhne", "北京云科技", "Ñandú Systems", "—-",
    "Αθήνα Labs",        "Łódź Robotics"};
constexpr std::array<std::string_view, 6> descriptions = {
    "Builds software for small businesses.",
    "A marketplace connecting buyers and sellers.",
    "Sensors rated from -40° to 85°C for industry.",
    "Payments infrastructure for emerging markets.",
    "Clinical data platform for hospitals.",
    "Online courses in partnership with universities.",
};

std::string uuid_of(std::uint64_t seed, std::uint64_t salt, std::uint64_t index) {
  const auto hex = sim_hex_id(seed, salt, index, 32);
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

std::string slug(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 && u < 128) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  return out;
}

bj::object entity(std::uint64_t seed, std::string_view value, std::string_view def,
                  std::optional<std::string_view> location_type = std::nullopt) {
  const auto id =
      uuid_of(seed, salt_entity, sim_text_hash(value) ^ sim_text_hash(location_type.value_or("")));
  bj::object out{{"uuid", id},
                 {"value", value},
                 {"permalink", slug(value).empty() ? id.substr(0, 8) : slug(value)},
                 {"entity_def_id", def}};
  if (location_type) {
    out["location_type"] = *location_type;
  }
  return out;
}

// Sets updated_at (and what changes with a version) in an org's properties.
void apply_version(crunchbase_org& org) {
  org.properties["updated_at"] = sim_iso_seconds(org.updated_at);
  if (auto* rank = org.properties.if_contains("rank_org")) {
    *rank = 1 + (rank->as_int64() + 7919 * org.version) % 500'000;
  }
}

}  // namespace

crunchbase_dataset::crunchbase_dataset(std::uint64_t seed, std::size_t orgs) : seed_(seed) {
  base_.reserve(orgs);
  std::set<std::string> permalinks;
  for (std::size_t i = 0; i < orgs; ++i) {
    sim_draws draws(seed, salt_org + i * 16);
    crunchbase_org org;
    org.uuid = uuid_of(seed, salt_uuid, i);
    // updated_at over the two years before the epoch; a third of the orgs in 40 shared seconds.
    if (draws.percent(33)) {
      org.updated_at =
          crunchbase_epoch -
          std::chrono::seconds{sim_hash(seed, salt_cluster, draws.below(40)) % two_years.count()};
    } else {
      org.updated_at = crunchbase_epoch - std::chrono::seconds{draws.below(two_years.count())};
    }
    org.created_at =
        draws.percent(36)
            ? org.updated_at
            : org.updated_at - std::chrono::seconds{draws.below(3 * two_years.count())};
    std::string name;
    if (draws.percent(5)) {
      name = unicode_names[draws.below(unicode_names.size())];
    } else {
      for (std::uint64_t s = 0, n = 2 + draws.below(2); s < n; ++s) {
        name += syllables[draws.below(syllables.size())];
      }
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    }
    name += suffixes[draws.below(suffixes.size())];
    // Permalinks clash: the second gets "-2", later ones the uuid's last 4 hex digits.
    std::string permalink = slug(name);
    if (permalink.empty()) {
      permalink = org.uuid.substr(org.uuid.size() - 4);
    }
    if (!permalinks.insert(permalink).second) {
      permalink += permalinks.insert(permalink + "-2").second
                       ? "-2"
                       : "-" + org.uuid.substr(org.uuid.size() - 4);
      permalinks.insert(permalink);
    }

    bj::object identifier{{"uuid", org.uuid},
                          {"value", name},
                          {"permalink", permalink},
                          {"entity_def_id", "organization"}};
    if (!draws.percent(14)) {
      identifier["image_id"] = draws.percent(50) ? sim_hex_id(seed, salt_image, i, 20)
                                                 : fmt::format("v{}/{}.png", 1400000000 + i,
                                                               sim_hex_id(seed, salt_image, i, 8));
    }
    std::vector<std::pair<std::string_view, bj::value>> props;
    props.emplace_back("identifier", std::move(identifier));
    props.emplace_back("uuid", org.uuid);
    props.emplace_back("name", name);
    props.emplace_back("permalink", permalink);
    if (!draws.percent(10)) {
      props.emplace_back("short_description", descriptions[draws.below(descriptions.size())]);
    }
    if (!draws.percent(14)) {
      const auto url = fmt::format("http://{}.com/", permalink);
      props.emplace_back("website_url", url);
      props.emplace_back("website", bj::object{{"value", url}});
    }
    if (!draws.percent(30)) {
      props.emplace_back(
          "linkedin",
          bj::object{{"value", fmt::format("https://www.linkedin.com/company/{}", permalink)}});
    }
    if (!draws.percent(50)) {
      props.emplace_back("facebook",
                         bj::object{{"value", "https://www.facebook.com/" + permalink}});
    }
    if (!draws.percent(40)) {
      props.emplace_back("twitter", bj::object{{"value", "https://twitter.com/" + permalink}});
    }
    if (!draws.percent(5)) {
      props.emplace_back("company_type", draws.percent(90) ? "for_profit" : "non_profit");
    }
    props.emplace_back("created_at", sim_iso_seconds(org.created_at));
    props.emplace_back("updated_at", sim_iso_seconds(org.updated_at));
    if (!draws.percent(10)) {
      const auto& p = places[draws.below(places.size())];
      bj::array locations;
      if (draws.percent(12)) {
        locations.push_back(entity(seed, p.country, "location", "country"));  // country only
      } else {
        locations.push_back(entity(seed, p.city, "location", "city"));
        if (!draws.percent(10)) {
          locations.push_back(entity(seed, p.region, "location", "region"));
        }
        locations.push_back(entity(seed, p.country, "location", "country"));
        locations.push_back(entity(seed, p.continent, "location", "continent"));
      }
      props.emplace_back("location_identifiers", std::move(locations));
    }
    if (!draws.percent(8)) {
      bj::array list;
      for (std::uint64_t c = 0, n = 1 + draws.below(3); c < n; ++c) {
        list.push_back(entity(seed, categories[(i + c) % categories.size()], "category"));
      }
      props.emplace_back("categories", std::move(list));
    }
    if (!draws.percent(10)) {
      props.emplace_back("rank_org", static_cast<std::int64_t>(1 + draws.below(500'000)));
    }
    if (!draws.percent(20)) {
      props.emplace_back("rank_org_company", static_cast<std::int64_t>(1 + draws.below(300'000)));
    }
    // Key order varies between entities, as upstream's does.
    for (std::size_t k = props.size(); k > 1; --k) {
      std::swap(props[k - 1], props[draws.below(k)]);
    }
    for (auto& [key, value] : props) {
      org.properties.emplace(key, std::move(value));
    }
    base_.push_back(std::move(org));
  }
}

std::vector<crunchbase_org> crunchbase_dataset::at(sys_seconds now) const {
  auto orgs = base_;
  if (orgs.empty() || now <= crunchbase_epoch) {
    return orgs;
  }
  const auto hours = (now - crunchbase_epoch) / 1h;
  const std::size_t per_round = std::max<std::size_t>(1, orgs.size() / 100);
  for (std::int64_t h = 0; h <= hours; ++h) {
    for (std::size_t j = 0; j < per_round; ++j) {
      const auto index =
          sim_hash(seed_, salt_change + static_cast<std::uint64_t>(h), j) % orgs.size();
      // A round's changes land in three shared seconds of its hour.
      const auto second =
          sim_hash(seed_, salt_change_second + static_cast<std::uint64_t>(h), j % 3) % 3600;
      const auto when = crunchbase_epoch + std::chrono::hours{h} + std::chrono::seconds{second};
      auto& org = orgs[index];
      if (when > now || when <= org.updated_at) {
        continue;
      }
      org.updated_at = when;
      ++org.version;
      apply_version(org);
    }
  }
  return orgs;
}

}  // namespace etl
