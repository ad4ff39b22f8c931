#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/sim/spacex_data.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {
namespace {

namespace bj = boost::json;
using std::chrono::sys_seconds;
using namespace std::chrono_literals;

enum : std::uint64_t {
  salt_launch_id = 0x5370616365580001ULL,
  salt_crew_id,
  salt_core_id,
  salt_payload_id,
  salt_capsule_id,
  salt_ship_id,
  salt_landpad_id,
  salt_library_id,
  salt_dates,
  salt_fields,
  salt_cores,
  salt_extra,
};

constexpr std::string_view falcon1 = "5e9d0d95eda69955f709d1eb";
constexpr std::string_view falcon9 = "5e9d0d95eda69973a809d1ec";
constexpr std::string_view falcon_heavy = "5e9d0d95eda69974db09d1ed";
constexpr std::string_view kwajalein = "5e9e4502f5090995de566f86";
constexpr std::string_view ccsfs = "5e9e4501f509094ba4566f84";
constexpr std::string_view ksc = "5e9e4502f509094188566f88";
constexpr std::string_view vafb = "5e9e4502f509092b78566f87";

sys_seconds at(int y, unsigned m, unsigned d, int hour = 0, int minute = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / m / d} + std::chrono::hours{hour} +
         std::chrono::minutes{minute};
}

enum class rocket { f1, f9, fh };

// A launch fixed by the real dataset's edges; the rest are drawn around them.
struct anchor {
  sys_seconds when;
  std::string_view name;
  rocket kind = rocket::f9;
  std::optional<bool> success = true;
  std::string_view precision = "hour";
  std::chrono::seconds unix_skew{0};  // date_unix - date_utc (COTS 2, SSO-A)
};

// Past launches per period; their sum is 187 and with the 18 upcoming ones 205. The periods give
// the real windows: 2015-01-01..2024-06-01 holds 187, 2020-01-01..2020-06-01 holds 8.
struct period {
  sys_seconds from;
  sys_seconds to;  // exclusive
  int count;
};

std::vector<period> past_periods() {
  std::vector<period> out;
  const std::array<std::pair<int, int>, 16> years = {{{2006, 1},
                                                      {2007, 1},
                                                      {2008, 2},
                                                      {2009, 1},
                                                      {2010, 2},
                                                      {2012, 2},
                                                      {2013, 3},
                                                      {2014, 6},
                                                      {2015, 7},
                                                      {2016, 9},
                                                      {2017, 18},
                                                      {2018, 21},
                                                      {2019, 13},
                                                      {2020, 26},
                                                      {2021, 31},
                                                      {2022, 44}}};
  for (const auto& [year, count] : years) {
    if (year == 2020) {
      out.push_back({at(2020, 1, 1), at(2020, 6, 1), 8});
      out.push_back({at(2020, 6, 1), at(2021, 1, 1), 18});
    } else if (year == 2022) {
      out.push_back({at(2022, 1, 1), at(2022, 10, 8), count});
    } else if (year == 2006) {
      out.push_back({at(2006, 3, 24), at(2007, 1, 1), count});
    } else {
      out.push_back({at(year, 1, 1), at(year + 1, 1, 1), count});
    }
  }
  return out;
}

std::vector<anchor> past_anchors() {
  return {
      {at(2006, 3, 24, 22, 30), "FalconSat", rocket::f1, false},
      {at(2007, 3, 21, 1, 10), "DemoSat", rocket::f1, false},
      {at(2008, 8, 3, 3, 34), "Trailblazer", rocket::f1, false},
      {at(2008, 9, 28, 23, 15), "RatSat", rocket::f1},
      {at(2009, 7, 13, 3, 35), "RazakSat", rocket::f1},
      {at(2010, 6, 4, 18, 45), "Falcon 9 Test Flight"},
      {at(2010, 12, 8, 15, 43), "COTS 1"},
      {at(2012, 5, 22, 7, 44), "COTS 2", rocket::f9, true, "hour", -std::chrono::days{20}},
      {at(2012, 10, 8, 0, 35), "CRS-1"},
      {at(2015, 4, 27, 23, 3), "TürkmenÄlem 52°E / MonacoSAT"},
      {at(2015, 6, 28, 14, 21), "CRS-7", rocket::f9, false},
      {at(2016, 9, 1, 13, 7), "Amos-6", rocket::f9, false},
      {at(2018, 2, 6, 20, 45), "Falcon Heavy Test Flight", rocket::fh},
      {at(2018, 11, 15, 20, 46), "Es’hail 2"},
      {at(2018, 12, 3, 18, 34), "SSO-A", rocket::f9, true, "hour", 120s},
      {at(2019, 4, 11, 22, 35), "ArabSat 6A", rocket::fh},
      {at(2019, 6, 25, 6, 30), "STP-2", rocket::fh},
      {at(2020, 5, 30, 19, 22), "CCtCap Demo Mission 2"},
      {at(2020, 11, 16, 0, 27), "Crew-1"},
      {at(2021, 4, 23, 9, 49), "Crew-2"},
      {at(2021, 9, 16, 0, 2), "Inspiration4"},
      {at(2021, 11, 11, 2, 3), "Crew-3"},
      {at(2021, 12, 19, 3, 58), "Türksat 5B"},
      {at(2022, 4, 8, 15, 17), "Ax-1"},
      {at(2022, 4, 27, 7, 52), "Crew-4"},
      {at(2022, 7, 11, 1, 39), "Starlink 3-1 (v1.5)", rocket::f9, std::nullopt},
      {at(2022, 10, 5, 16, 0), "Crew-5"},
  };
}

// The 18 upcoming launches, all dated in the past: 3 share 2022-11-01T00:00, 5 share
// 2022-12-01T00:00 (month precision), 5 are day-precise at midnight, 5 hour-precise.
std::vector<anchor> upcoming_anchors() {
  std::vector<anchor> out;
  const auto add = [&](sys_seconds t, std::string_view precision, std::string_view name = {},
                       rocket kind = rocket::f9) {
    out.push_back({t, name, kind, std::nullopt, precision});
  };
  add(at(2022, 10, 8, 23, 5), "hour");
  add(at(2022, 10, 14, 19, 12), "hour");
  add(at(2022, 10, 20), "day");
  add(at(2022, 10, 27), "day");
  add(at(2022, 11, 1), "month", "USSF-44", rocket::fh);
  add(at(2022, 11, 1), "month");
  add(at(2022, 11, 1), "month");
  add(at(2022, 11, 4, 11, 40), "hour");
  add(at(2022, 11, 10), "day");
  add(at(2022, 11, 18), "day");
  add(at(2022, 11, 22, 6, 15), "hour");
  add(at(2022, 11, 24), "day");
  add(at(2022, 12, 1), "month", "USSF-67", rocket::fh);
  for (int i = 0; i < 4; ++i) {
    add(at(2022, 12, 1), "month");
  }
  add(at(2022, 12, 5, 20, 10), "hour");
  return out;
}

// Flight numbers of the upcoming launches in date order: duplicates 188 x4 and 198 x2, no 190
// or 201 (the real dataset's).
constexpr std::array<int, 18> upcoming_flight_numbers = {
    188, 188, 188, 188, 189, 191, 192, 193, 194, 195, 196, 197, 198, 198, 199, 200, 202, 203};

struct crew_member {
  std::string_view name;
  std::string_view agency;
  std::string_view launch;
  std::string_view role;
};

constexpr std::array<crew_member, spacex_crew_count> crew_members = {{
    {"Robert Behnken", "NASA", "CCtCap Demo Mission 2", "Joint Operations Commander"},
    {"Douglas Hurley", "NASA", "CCtCap Demo Mission 2", "Spacecraft Commander"},
    {"Michael Hopkins", "NASA", "Crew-1", "Commander"},
    {"Victor J. Glover", "NASA", "Crew-1", "Pilot"},
    {"Shannon Walker", "NASA", "Crew-1", "Mission Specialist"},
    {"Soichi Noguchi", "JAXA", "Crew-1", "Mission Specialist"},
    {"Shane Kimbrough", "NASA", "Crew-2", "Commander"},
    {"K. Megan McArthur", "NASA", "Crew-2", "Pilot"},
    {"Akihiko Hoshide", "JAXA", "Crew-2", "Mission Specialist"},
    {"Thomas Pesquet", "ESA", "Crew-2", "Mission Specialist"},
    {"Jared Isaacman", "SpaceX", "Inspiration4", "Commander"},
    {"Sian Proctor", "SpaceX", "Inspiration4", "Pilot"},
    {"Hayley Arceneaux", "SpaceX", "Inspiration4", "Medical Officer"},
    {"Chris Sembroski", "SpaceX", "Inspiration4", "Mission Specialist"},
    {"Raja Chari", "NASA", "Crew-3", "Commander"},
    {"Thomas Marshburn", "NASA", "Crew-3", "Pilot"},
    {"Kayla Barron", "NASA", "Crew-3", "Mission Specialist"},
    {"Matthias Maurer", "ESA", "Crew-3", "Mission Specialist"},
    {"Michael López-Alegría", "Axiom Space", "Ax-1", "Commander"},
    {"Larry Connor", "Axiom Space", "Ax-1", "Pilot"},
    {"Mark Pathy", "Axiom Space", "Ax-1", "Mission Specialist"},
    {"Eytan Stibbe", "Axiom Space", "Ax-1", "Mission Specialist"},
    {"Kjell Lindgren", "NASA", "Crew-4", "Commander"},
    {"Robert Hines", "NASA", "Crew-4", "Pilot"},
    {"Samantha Cristoforetti", "ESA", "Crew-4", "Mission Specialist"},
    {"Jessica Watkins", "NASA", "Crew-4", "Mission Specialist"},
    {"Nicole Mann", "NASA", "Crew-5", "Commander"},
    {"Josh Cassada", "NASA", "Crew-5", "Pilot"},
    {"Koichi Wakata", "JAXA", "Crew-5", "Mission Specialist"},
    {"Anna Kikina", "Roscosmos", "Crew-5", "Mission Specialist"},
}};

constexpr std::array<std::string_view, 12> generic_details = {
    "Falcon 9 delivers the satellite to a geosynchronous transfer orbit.",
    "The booster lands on the drone ship after a nominal ascent.",
    "A batch of Starlink satellites is deployed to low Earth orbit.",
    "Rideshare mission carrying small satellites for several customers.",
    "The second stage performs a deorbit burn after deployment.",
    "Resupply mission to the International Space Station.",
    "The fairing halves are recovered by the support ships.",
    "Launch of a navigation satellite for the U.S. Space Force.",
    "Weather delays pushed the launch by a day.",
    "First reflight of a booster for this customer.",
    "The payload separates about an hour after liftoff.",
    "Static fire completed two days before launch.",
};

// Details with non-ASCII text, some of it mojibake as stored upstream.
constexpr std::array<std::string_view, 15> non_ascii_details = {
    "The satellite will be positioned at 52°E.",
    "Es’hail 2 provides coverage to the Middle East and North Africa.",
    "The payload will operate at 113Â° West longitude.",
    "A geostationary satellite at 36°E for Türksat.",
    "Launch for the Société Européenne des Satellites.",
    "The satellite replaces one at 9°E, built by Airbus Défense.",
    "Deployed to 61.5Â°W after a 35 minute coast.",
    "Mission for Agência Espacial Brasileira partners.",
    "Payload for Télésat, positioned at 63°W.",
    "The Ñandú cubesat rides along.",
    "Operated from the ground station in Tromsø.",
    "A “rideshare” with twelve customers.",
    "The orbit is inclined at 97.5° (sun-synchronous).",
    "Payload built in Zürich – the first of its kind.",
    "Coverage of Ελλάδα and Κύπρος.",
};

std::string iso_utc(sys_seconds t) {
  return sim_iso_millis(std::chrono::time_point_cast<std::chrono::milliseconds>(t));
}

// "2006-03-25T10:30:00+12:00": the launch's local time at its pad.
std::string iso_local(sys_seconds t, std::string_view pad) {
  const unsigned month = static_cast<unsigned>(
      std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)}.month());
  const bool summer = month >= 4 && month <= 10;
  int hours = 12;
  if (pad == vafb) {
    hours = summer ? -7 : -8;
  } else if (pad != kwajalein) {
    hours = summer ? -4 : -5;
  }
  auto text = iso_utc(t + std::chrono::hours{hours});
  text.resize(19);  // drop ".000Z"
  return text + fmt::format("{}{:02}:00", hours < 0 ? '-' : '+', std::abs(hours));
}

struct draft {
  anchor a;
  bool upcoming = false;
  int flight_number = 0;
  std::string name;
};

bool is_dragon(std::string_view name) {
  for (std::string_view prefix : {"CRS", "COTS", "Crew", "CCtCap", "Ax-", "Inspiration"}) {
    if (name.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

// Draws dates for the generic launches of every period, avoiding midnight (only the upcoming
// launches sit at 00:00:00 UTC) and the anchors' instants.
std::vector<draft> drafts(std::uint64_t seed, std::size_t extra) {
  std::vector<draft> out;
  std::set<sys_seconds> taken;
  for (const auto& a : past_anchors()) {
    out.push_back({a, false});
    taken.insert(a.when);
  }
  sim_draws draws(seed, salt_dates);
  const auto generic = [&](sys_seconds from, sys_seconds to) {
    for (;;) {
      const auto minutes = (to - from).count() / 60;
      const auto t = from + std::chrono::minutes{draws.below(static_cast<std::uint64_t>(minutes))};
      if (t.time_since_epoch() % std::chrono::days{1} != 0s && taken.insert(t).second) {
        return t;
      }
    }
  };
  for (const auto& p : past_periods()) {
    const auto anchored = std::count_if(out.begin(), out.end(), [&](const draft& d) {
      return d.a.when >= p.from && d.a.when < p.to;
    });
    for (auto i = anchored; i < p.count; ++i) {
      out.push_back({{generic(p.from, p.to), {}}, false});
    }
  }
  for (std::size_t i = 0; i < extra; ++i) {
    out.push_back({{generic(at(2006, 3, 25), at(2022, 10, 8)), {}}, false});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const draft& x, const draft& y) { return x.a.when < y.a.when; });
  int flight = 0;
  for (auto& d : out) {
    d.flight_number = ++flight;
  }
  const auto upcoming = upcoming_anchors();
  for (std::size_t i = 0; i < upcoming.size(); ++i) {
    out.push_back({upcoming[i], true, upcoming_flight_numbers[i]});
  }
  // Generic names by era, numbered per series so that every name is unique.
  std::map<std::string, int, std::less<>> series;
  for (auto& d : out) {
    if (!d.a.name.empty()) {
      d.name = d.a.name;
      continue;
    }
    const int year = static_cast<int>(
        std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(d.a.when)}.year());
    std::string_view prefix;
    if (d.upcoming || year >= 2022) {
      prefix = "Starlink 4-{} (v1.5)";
    } else if (year >= 2020) {
      prefix = draws.percent(60) ? "Starlink-{} (v1.0)" : "Transporter-{}";
    } else if (year >= 2017) {
      prefix = draws.percent(50) ? "Iridium NEXT Mission {}" : "SES-{}";
    } else {
      prefix = draws.percent(50) ? "Orbcomm-OG2 M{}" : "AsiaSat {}";
    }
    const auto n = ++series[std::string(prefix)];
    d.name = fmt::format(fmt::runtime(prefix), n);
    if (d.flight_number == 0) {
      d.flight_number = 0;
    }
  }
  return out;
}

bj::object links(sim_draws& draws, const std::string& name, bool upcoming) {
  const auto maybe = [&](unsigned percent, std::string value) -> bj::value {
    if (upcoming || !draws.percent(percent)) {
      return nullptr;
    }
    return bj::value(value);
  };
  const auto youtube = sim_hex_id(draws.next(), 1, 0, 11);
  bj::array flickr;
  if (!upcoming && draws.percent(40)) {
    for (int i = 0; i < 3; ++i) {
      flickr.emplace_back(
          fmt::format("https://live.staticflickr.com/65535/{}_o.jpg", draws.next() % 100000000));
    }
  }
  return {
      {"patch",
       {{"small", maybe(90, fmt::format("https://images2.imgbox.com/{}_o.png", youtube))},
        {"large", maybe(90, fmt::format("https://images2.imgbox.com/{}_o.png", youtube))}}},
      {"reddit",
       {{"campaign", maybe(50, "https://www.reddit.com/r/spacex/comments/" + youtube)},
        {"launch", maybe(60, "https://www.reddit.com/r/spacex/comments/" + youtube)},
        {"media", maybe(30, "https://www.reddit.com/r/spacex/comments/" + youtube)},
        {"recovery", maybe(20, "https://www.reddit.com/r/spacex/comments/" + youtube)}}},
      {"flickr", {{"small", bj::array{}}, {"original", std::move(flickr)}}},
      {"presskit", maybe(50, "https://www.spacex.com/media/" + youtube + ".pdf")},
      {"webcast", maybe(95, "https://youtu.be/" + youtube)},
      {"youtube_id", maybe(95, youtube)},
      {"article", maybe(80, "https://spaceflightnow.com/launch-log/" + youtube)},
      {"wikipedia", maybe(70, "https://en.wikipedia.org/wiki/" + name)},
  };
}

// The core entries of every launch, in launch order. Exactly 78 distinct cores fly the 196
// entries with a core (when the default 205 launches are built): a new core or a reflight is
// drawn so that the count comes out exact; a launch never carries one core twice.
struct core_state {
  std::string id;
  int flights = 0;
};

}  // namespace

spacex_dataset make_spacex_dataset(std::uint64_t seed, std::size_t launch_count, bool crew_quirks) {
  const std::size_t extra =
      launch_count > spacex_default_launches ? launch_count - spacex_default_launches : 0;
  auto all = drafts(seed, extra);

  // Which upcoming core entries are null: USSF-44 all three, USSF-67 its center, every single-core
  // upcoming launch but the last: 19 in all.
  const auto null_core = [&](const draft& d, std::size_t entry) {
    if (!d.upcoming) {
      return false;
    }
    if (d.name == "USSF-44") {
      return true;
    }
    if (d.name == "USSF-67") {
      return entry == 0;
    }
    return d.a.when != at(2022, 12, 5, 20, 10);
  };
  std::size_t entries_with_core = 0;
  for (const auto& d : all) {
    const std::size_t n = d.a.kind == rocket::fh ? 3 : 1;
    for (std::size_t e = 0; e < n; ++e) {
      entries_with_core += null_core(d, e) ? 0 : 1;
    }
  }
  const std::size_t wanted_cores = 78 + extra;

  std::vector<std::string> landpads;
  for (std::uint64_t i = 0; i < 7; ++i) {
    landpads.push_back(sim_hex_id(seed, salt_landpad_id, i));
  }
  std::vector<core_state> cores;
  sim_draws core_draws(seed, salt_cores);
  sim_draws draws(seed, salt_fields);
  std::size_t remaining = entries_with_core;
  std::size_t details_seen = 0;

  spacex_dataset data;
  std::map<std::string, std::string, std::less<>> launch_ids;
  for (std::size_t index = 0; index < all.size(); ++index) {
    const auto& d = all[index];
    const auto when = d.a.when;
    const int year = static_cast<int>(
        std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(when)}.year());
    const bool f1 = d.a.kind == rocket::f1;
    const bool dragon = is_dragon(d.name);
    const std::string id = sim_hex_id(seed, salt_launch_id, index);
    launch_ids[d.name] = id;
    std::string_view pad = f1 ? kwajalein : ccsfs;
    if (!f1 && (d.a.kind == rocket::fh || dragon || draws.percent(30))) {
      pad = ksc;
    } else if (!f1 && draws.percent(15)) {
      pad = vafb;
    }

    bj::array core_entries;
    const std::size_t n = d.a.kind == rocket::fh ? 3 : 1;
    for (std::size_t e = 0; e < n; ++e) {
      bj::object entry;
      if (null_core(d, e)) {
        // Null cores of upcoming launches, some with their other fields already planned.
        const bool planned = core_draws.percent(50);
        entry = {{"core", nullptr},
                 {"flight", nullptr},
                 {"gridfins", planned ? bj::value(true) : nullptr},
                 {"legs", planned ? bj::value(true) : nullptr},
                 {"reused", planned ? bj::value(false) : nullptr},
                 {"landing_attempt", planned ? bj::value(true) : nullptr},
                 {"landing_success", nullptr},
                 {"landing_type", planned ? bj::value("ASDS") : nullptr},
                 {"landpad", planned ? bj::value(landpads[3]) : nullptr}};
        core_entries.push_back(std::move(entry));
        continue;
      }
      // New core or reflight: reflights only from 2017; exactly wanted_cores in the end.
      const std::size_t needed = wanted_cores > cores.size() ? wanted_cores - cores.size() : 0;
      bool fresh = cores.empty() || year < 2017 || needed >= remaining ||
                   (needed > 0 && core_draws.below(remaining) < needed);
      std::size_t pick = cores.size();
      if (!fresh) {
        // Prefer recent cores, never one already on this launch, at most 14 flights.
        std::vector<std::size_t> eligible;
        for (std::size_t c = cores.size() > 12 ? cores.size() - 12 : 0; c < cores.size(); ++c) {
          bool on_launch = false;
          for (const auto& taken : core_entries) {
            on_launch = on_launch || taken.at("core") == bj::value(cores[c].id);
          }
          if (!on_launch && cores[c].flights < 14) {
            eligible.push_back(c);
          }
        }
        if (eligible.empty()) {
          fresh = true;
        } else {
          pick = eligible[core_draws.below(eligible.size())];
        }
      }
      if (fresh) {
        cores.push_back({sim_hex_id(seed, salt_core_id, cores.size()), 0});
        pick = cores.size() - 1;
      }
      --remaining;
      auto& core = cores[pick];
      ++core.flights;
      const bool modern = year >= 2015;
      const bool attempt = !f1 && year >= 2013 && (d.upcoming || core_draws.percent(92));
      bj::value type = nullptr;
      bj::value landpad = nullptr;
      if (attempt) {
        if (year < 2015) {
          type = "Ocean";
        } else if (pad != vafb && core_draws.percent(18)) {
          type = "RTLS";
          landpad = landpads[core_draws.below(3)];
        } else {
          type = "ASDS";
          landpad = landpads[3 + core_draws.below(4)];
        }
      }
      entry = {
          {"core", core.id},
          {"flight", core.flights},
          {"gridfins", modern},
          {"legs", year >= 2014 && !f1},
          {"reused", core.flights > 1},
          {"landing_attempt", attempt},
          {"landing_success",
           attempt && !d.upcoming ? bj::value(core_draws.percent(year < 2017 ? 60 : 96)) : nullptr},
          {"landing_type", type},
          {"landpad", landpad}};
      core_entries.push_back(std::move(entry));
    }

    bj::value fairings = nullptr;
    if (!dragon && !f1 && !draws.percent(8)) {
      const bool attempt = year >= 2017 && draws.percent(70);
      fairings =
          bj::object{{"reused", year >= 2019 ? bj::value(draws.percent(50)) : nullptr},
                     {"recovery_attempt", attempt},
                     {"recovered", attempt ? bj::value(draws.percent(70)) : nullptr},
                     {"ships", attempt ? bj::array{bj::value(sim_hex_id(seed, salt_ship_id, 1))}
                                       : bj::array{}}};
    }
    bj::value details = nullptr;
    if (!d.upcoming && !draws.percent(25)) {
      ++details_seen;
      if (details_seen % 9 == 4 && details_seen / 9 < non_ascii_details.size()) {
        details = non_ascii_details[details_seen / 9];
      } else if (details_seen == 50) {
        // One long text, as the real dataset's longest (1,302 characters).
        std::string text;
        for (std::size_t i = 0; text.size() < 1302; ++i) {
          text += generic_details[i % generic_details.size()];
          text += ' ';
        }
        text.resize(1302);
        details = text;
      } else {
        details = generic_details[draws.below(generic_details.size())];
      }
    }
    bj::array failures;
    if (d.a.success == std::optional<bool>(false)) {
      if (d.name == "Amos-6") {
        failures.push_back({{"time", -577}, {"altitude", 0}, {"reason", "pre-flight anomaly"}});
      } else {
        failures.push_back(
            {{"time", 33 + draws.below(300)},
             {"altitude", d.name == "FalconSat" ? bj::value(nullptr) : bj::value(draws.below(200))},
             {"reason", "engine failure"}});
      }
    }
    bj::array payloads;
    for (std::uint64_t p = 0, count = 1 + draws.below(2); p < count; ++p) {
      payloads.emplace_back(sim_hex_id(seed, salt_payload_id, index * 4 + p));
    }
    bj::array capsules;
    if (dragon) {
      capsules.emplace_back(sim_hex_id(seed, salt_capsule_id, index));
    }
    bj::array ships;
    if (!d.upcoming && !f1 && draws.percent(60)) {
      ships.emplace_back(sim_hex_id(seed, salt_ship_id, draws.below(6)));
    }
    const bool has_static_fire = !d.upcoming && !f1 && !dragon && draws.percent(70);
    const auto fire = when - std::chrono::hours{24 * (2 + static_cast<int>(draws.below(6)))};
    const bool has_window = !d.upcoming && year >= 2012 && draws.percent(75);
    const bool has_library_id = year >= 2020 && !draws.percent(20);
    // value_or, not *: GCC 12 sees a maybe-uninitialized optional<bool> otherwise.
    const bj::value success = !d.upcoming && d.a.success.has_value()
                                  ? bj::value(d.a.success.value_or(false))
                                  : bj::value(nullptr);

    bj::object launch{
        {"fairings", std::move(fairings)},
        {"links", links(draws, d.name, d.upcoming)},
        {"static_fire_date_utc", has_static_fire ? bj::value(iso_utc(fire)) : nullptr},
        {"static_fire_date_unix",
         has_static_fire ? bj::value(fire.time_since_epoch().count()) : nullptr},
        {"net", false},
        {"window",
         has_window ? bj::value(draws.percent(60) ? 0 : 60 * draws.between(1, 240)) : nullptr},
        {"rocket", d.a.kind == rocket::f1   ? falcon1
                   : d.a.kind == rocket::fh ? falcon_heavy
                                            : falcon9},
        {"success", success},
        {"failures", std::move(failures)},
        {"details", std::move(details)},
        {"crew", bj::array{}},
        {"ships", std::move(ships)},
        {"capsules", std::move(capsules)},
        {"payloads", std::move(payloads)},
        {"launchpad", pad},
        {"flight_number", d.flight_number},
        {"name", d.name},
        {"date_utc", iso_utc(when)},
        {"date_unix", (when + d.a.unix_skew).time_since_epoch().count()},
        {"date_local", iso_local(when, pad)},
        {"date_precision", d.a.precision},
        {"upcoming", d.upcoming},
        {"cores", std::move(core_entries)},
        {"auto_update", true},
        {"tbd", false},
        {"launch_library_id",
         has_library_id ? bj::value(sim_hex_id(seed, salt_library_id, index, 32)) : nullptr},
        {"id", id},
    };
    data.launches.push_back(std::move(launch));
  }

  // Crew: one launch each, linked both ways (v5 launches carry {crew, role}).
  for (std::size_t i = 0; i < crew_members.size(); ++i) {
    const auto& m = crew_members[i];
    const std::string id = sim_hex_id(seed, salt_crew_id, i);
    bj::array launches;
    if (const auto it = launch_ids.find(m.launch); it != launch_ids.end()) {
      for (auto& launch : data.launches) {
        if (launch.at("id") == bj::value(it->second)) {
          launch["crew"].as_array().push_back({{"crew", id}, {"role", m.role}});
        }
      }
      launches.emplace_back(it->second);
    }
    std::string wiki(m.name);
    std::replace(wiki.begin(), wiki.end(), ' ', '_');
    bj::object member{
        {"name", m.name},
        {"agency", m.agency},
        {"image",
         fmt::format("https://imgur.com/{}.png", sim_hex_id(seed, salt_crew_id + 7, i, 7))},
        {"wikipedia", "https://en.wikipedia.org/wiki/" + wiki},
        {"launches", std::move(launches)},
        {"status", "active"},
        {"id", id},
    };
    if (crew_quirks) {
      // The edges a client must take: nulls, not-yet-linked members, other statuses.
      if (i == 1) {
        member["agency"] = nullptr;
      } else if (i == 2) {
        member["image"] = nullptr;
        member["wikipedia"] = nullptr;
      } else if (i == 3) {
        member["name"] = nullptr;
      } else if (i >= 26) {
        member["launches"] = bj::array{};
      }
      if (i == 0) {
        member["status"] = "retired";
      } else if (i == 4) {
        member["status"] = "inactive";
      } else if (i == 5) {
        member["status"] = "unknown";
      }
    }
    data.crew.push_back(std::move(member));
  }
  std::sort(data.crew.begin(), data.crew.end(), [](const bj::object& x, const bj::object& y) {
    return x.at("id").as_string() < y.at("id").as_string();
  });

  // Natural order: flight number, then date (the duplicates among the upcoming).
  std::stable_sort(data.launches.begin(), data.launches.end(),
                   [](const bj::object& x, const bj::object& y) {
                     return x.at("flight_number").as_int64() < y.at("flight_number").as_int64();
                   });
  if (launch_count < data.launches.size()) {
    data.launches.resize(launch_count);
    // Crew keep only the launches that remain.
    for (auto& member : data.crew) {
      auto& launches = member["launches"].as_array();
      bj::array kept;
      for (const auto& l : launches) {
        if (std::any_of(data.launches.begin(), data.launches.end(),
                        [&](const bj::object& x) { return x.at("id") == l; })) {
          kept.push_back(l);
        }
      }
      launches = std::move(kept);
    }
  }
  return data;
}

bj::object spacex_launch_v4(const bj::object& launch) {
  bj::object out = launch;
  if (auto* crew = out.if_contains("crew"); crew && crew->is_array()) {
    bj::array ids;
    for (const auto& c : crew->as_array()) {
      if (const auto* o = c.if_object(); o && o->contains("crew")) {
        ids.push_back(o->at("crew"));
      }
    }
    *crew = std::move(ids);
  }
  return out;
}

}  // namespace etl
