// A launches-like table for the Parquet benchmarks: the SpaceX launches pipeline's shape (ids,
// names, flags, timestamps, a long optional text, some nulls), generated from the row number so
// that any row count costs no memory to hold.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "etl/parquet/schema.hpp"

namespace etl::bench {

inline parquet::schema launches_schema() {
  using parquet::column_type;
  using parquet::repetition;
  return {{{"id", column_type::string, repetition::required},
           {"flight_number", column_type::int32, repetition::required},
           {"name", column_type::string, repetition::required},
           {"date_utc", column_type::timestamp, repetition::required},
           {"p_creation_date", column_type::date, repetition::required},
           {"upcoming", column_type::boolean, repetition::required},
           {"success", column_type::boolean, repetition::optional},
           {"rocket", column_type::string, repetition::required},
           {"launchpad", column_type::string, repetition::required},
           {"details", column_type::string, repetition::optional},
           {"static_fire_date_utc", column_type::timestamp, repetition::optional},
           {"window", column_type::int32, repetition::optional},
           {"payload_mass_kg", column_type::float64, repetition::optional},
           {"cores_reused", column_type::int64, repetition::required}}};
}

// Row i's values; the strings live in `storage` (reused row after row).
class launch_rows {
 public:
  const std::vector<parquet::value>& row(std::uint64_t i) {
    std::snprintf(id_, sizeof id_, "5eb87c%018llx",
                  static_cast<unsigned long long>(i * 2654435761u));
    name_ = "Starlink-" + std::to_string(i % 5000) + " (v1.0)";
    const auto n = static_cast<std::size_t>(i);
    values_ = {
        std::string_view(id_),
        static_cast<std::int32_t>(i),
        std::string_view(name_),
        parquet::timestamp{1'143'000'000'000'000LL +
                           static_cast<std::int64_t>(i) * 3'600'000'000LL},
        parquet::date{13'200 + static_cast<std::int32_t>(i / 24)},
        i % 50 == 0,
        i % 50 == 0 ? parquet::value{} : parquet::value{i % 17 != 0},
        std::string_view(rockets[n % rockets.size()]),
        std::string_view(pads[n % pads.size()]),
        i % 3 == 0 ? parquet::value{}
                   : parquet::value{std::string_view(details[n % details.size()])},
        i % 4 == 0 ? parquet::value{}
                   : parquet::value{parquet::timestamp{
                         1'142'000'000'000'000LL + static_cast<std::int64_t>(i) * 3'600'000'000LL}},
        i % 5 == 0 ? parquet::value{} : parquet::value{static_cast<std::int32_t>((i * 37) % 7200)},
        i % 6 == 0 ? parquet::value{} : parquet::value{static_cast<double>(i % 15600) + 0.25},
        static_cast<std::int64_t>(i % 4),
    };
    return values_;
  }

 private:
  static constexpr std::array<std::string_view, 3> rockets{
      "5e9d0d95eda69955f709d1eb", "5e9d0d95eda69973a809d1ec", "5e9d0d95eda689f9e609d1ee"};
  static constexpr std::array<std::string_view, 4> pads{
      "5e9e4502f5090995de566f86", "5e9e4501f509094ba4566f84", "5e9e4502f509092b78566f87",
      "5e9e4502f509094188566f88"};
  static constexpr std::array<std::string_view, 3> details{
      "Engine failure at 33 seconds and loss of vehicle",
      "Successful first stage landing on the droneship \"Of Course I Still Love You\", "
      "second stage nominal; the payload, a batch of 60 satellites, deployed at T+15 min",
      "Résumé: first reflight of a fairing half, recovered by GO Ms. Tree ✓"};
  char id_[32] = {};
  std::string name_;
  std::vector<parquet::value> values_;
};

}  // namespace etl::bench
