#include "etl/sim/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include <boost/json.hpp>

namespace etl {
namespace {

bool is_known_name(std::string_view name) {
  const auto names = sim_animal_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(sim_dataset, same_seed_gives_same_animals) {
  const sim_dataset a(42, 600, sim_seeded_born_at_max_ms);
  const sim_dataset b(42, 600, sim_seeded_born_at_max_ms);
  for (std::int64_t id = 0; id < a.total(); ++id) {
    std::string da;
    std::string db;
    a.append_detail_json(da, id);
    b.append_detail_json(db, id);
    ASSERT_EQ(da, db) << "id " << id;
  }
}

TEST(sim_dataset, different_seeds_give_different_animals) {
  const sim_dataset a(1, 100, sim_seeded_born_at_max_ms);
  const sim_dataset b(2, 100, sim_seeded_born_at_max_ms);
  int differing = 0;
  for (std::int64_t id = 0; id < a.total(); ++id) {
    std::string da;
    std::string db;
    a.append_detail_json(da, id);
    b.append_detail_json(db, id);
    differing += da != db ? 1 : 0;
  }
  EXPECT_GT(differing, 900);
}

TEST(sim_dataset, default_page_count_is_500_to_600_and_depends_on_the_seed_only) {
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const auto pages = sim_default_total_pages(seed);
    ASSERT_GE(pages, 500);
    ASSERT_LE(pages, 600);
    ASSERT_EQ(pages, sim_default_total_pages(seed));
    seen.insert(pages);
  }
  EXPECT_GT(seen.size(), 90U) << "the whole range is used";
}

TEST(sim_dataset, fields_follow_the_originals_distribution) {
  const sim_dataset data(7, 6000, sim_seeded_born_at_max_ms);  // 60,000 animals
  std::int64_t with_born_at = 0;
  std::array<int, sim_max_friends + 1> friend_counts{};
  std::set<std::string_view> names;
  for (std::int64_t id = 0; id < data.total(); ++id) {
    const auto a = data.animal(id);
    ASSERT_EQ(a.id, id);
    ASSERT_TRUE(is_known_name(a.name)) << a.name;
    names.insert(a.name);
    if (a.born_at_ms) {
      ++with_born_at;
      ASSERT_GE(*a.born_at_ms, sim_born_at_min_ms);
      ASSERT_LT(*a.born_at_ms, sim_seeded_born_at_max_ms);
    }
    ASSERT_LE(a.friend_count, sim_max_friends);
    ++friend_counts[a.friend_count];
    for (const auto f : a.friend_list()) {
      ASSERT_TRUE(is_known_name(f)) << f;
    }
  }
  // About one in six has a born_at: 10,000 expected, a binomial sd of ~91.
  EXPECT_NEAR(static_cast<double>(with_born_at), 10'000.0, 500.0);
  for (const int n : friend_counts) {
    EXPECT_NEAR(n, 10'000, 500) << "friend counts 0..5 are equally likely";
  }
  EXPECT_GT(names.size(), 95U) << "names repeat, drawn from the whole list";
  EXPECT_GE(sim_animal_names().size(), 90U);
}

TEST(sim_dataset, detail_json_has_the_originals_shape_and_values) {
  const sim_dataset data(3, 50, sim_seeded_born_at_max_ms);
  for (std::int64_t id = 0; id < data.total(); ++id) {
    std::string body;
    data.append_detail_json(body, id);
    const auto v = boost::json::parse(body);
    const auto& o = v.as_object();
    const auto a = data.animal(id);
    ASSERT_EQ(o.size(), 4U) << body;
    EXPECT_EQ(o.at("id").as_int64(), id);
    EXPECT_EQ(o.at("name").as_string(), a.name);
    if (a.born_at_ms) {
      EXPECT_EQ(o.at("born_at").as_int64(), *a.born_at_ms);
    } else {
      EXPECT_TRUE(o.at("born_at").is_null());
    }
    const std::string friends(o.at("friends").as_string());
    EXPECT_EQ(friends, a.friends_joined());
    EXPECT_EQ(friends.find(' '), std::string::npos);
    EXPECT_EQ(friends.empty(), a.friend_count == 0);
    // Keys in the original's order, compact as FastAPI writes JSON.
    EXPECT_TRUE(body.starts_with("{\"id\":" + std::to_string(id) + ",\"name\":\"")) << body;
  }
}

TEST(sim_dataset, listing_pages_hold_ten_animals_in_id_order) {
  const sim_dataset data(5, 12, sim_seeded_born_at_max_ms);
  for (std::int64_t page = 1; page <= 12; ++page) {
    std::string body;
    EXPECT_FALSE(data.append_listing_json(body, page, std::to_string(page)));
    const auto v = boost::json::parse(body);
    EXPECT_EQ(v.at("page").as_int64(), page);
    EXPECT_EQ(v.at("total_pages").as_int64(), 12);
    const auto& items = v.at("items").as_array();
    ASSERT_EQ(items.size(), 10U);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto id = (page - 1) * 10 + static_cast<std::int64_t>(i);
      const auto& item = items[i].as_object();
      EXPECT_EQ(item.size(), 3U) << "no friends in the listing";
      EXPECT_EQ(item.at("id").as_int64(), id);
      EXPECT_EQ(item.at("name").as_string(), data.animal(id).name);
    }
  }
}

TEST(sim_dataset, pages_outside_the_range_have_no_items) {
  const sim_dataset data(5, 12, sim_seeded_born_at_max_ms);
  for (const std::int64_t page : {0L, -1L, 13L, 1'000'000L}) {
    std::string body;
    data.append_listing_json(body, page, std::to_string(page));
    const auto v = boost::json::parse(body);
    EXPECT_EQ(v.at("page").as_int64(), page);
    EXPECT_TRUE(v.at("items").as_array().empty()) << body;
  }
  std::string body;
  data.append_listing_json(body, INT64_MAX, "123456789012345678901234567890");
  EXPECT_EQ(body, R"({"page":123456789012345678901234567890,"total_pages":12,"items":[]})");
}

TEST(sim_dataset, distortions_change_exactly_one_field) {
  const sim_dataset data(11, 10, sim_seeded_born_at_max_ms);
  const std::int64_t id = 4;
  const auto detail = [&](sim_distortion d) {
    std::string body;
    data.append_detail_json(body, id, d);
    return boost::json::parse(body).as_object();
  };
  using kind = sim_distortion::kind;
  EXPECT_TRUE(detail({kind::wrong_type, sim_field::id}).at("id").is_string());
  EXPECT_TRUE(detail({kind::wrong_type, sim_field::name}).at("name").is_int64());
  EXPECT_TRUE(detail({kind::wrong_type, sim_field::born_at}).at("born_at").is_string());
  EXPECT_TRUE(detail({kind::wrong_type, sim_field::friends}).at("friends").is_array());
  for (const auto& [field, key] : {std::pair{sim_field::id, "id"},
                                   {sim_field::name, "name"},
                                   {sim_field::born_at, "born_at"},
                                   {sim_field::friends, "friends"}}) {
    const auto o = detail({kind::missing, field});
    EXPECT_FALSE(o.contains(key)) << key;
    EXPECT_EQ(o.size(), 3U) << key;
  }

  std::string body;
  EXPECT_TRUE(data.append_listing_json(body, 1, "1", {kind::missing, sim_field::name, 13}));
  const auto items = boost::json::parse(body).at("items").as_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].as_object().contains("name"), i != 3) << "item 13 % 10 lost its name";
  }
  std::string empty_page;
  EXPECT_FALSE(data.append_listing_json(empty_page, 11, "11", {kind::missing, sim_field::name, 0}));
}

TEST(sim_dataset, a_million_animals_cost_no_tables) {
  const sim_dataset data(1, 100'000, sim_seeded_born_at_max_ms);
  EXPECT_EQ(data.total(), 1'000'000);
  const auto last = data.animal(999'999);
  EXPECT_EQ(last.id, 999'999);
  std::string body;
  data.append_listing_json(body, 100'000, "100000");
  EXPECT_EQ(boost::json::parse(body).at("items").as_array().back().at("id").as_int64(), 999'999);
}

TEST(sim_dataset, repeating_pages_show_the_previous_first_id_in_place_of_their_last) {
  const sim_dataset plain(5, 200, sim_seeded_born_at_max_ms);
  const sim_dataset data(5, 200, sim_seeded_born_at_max_ms, 30);
  EXPECT_EQ(plain.listed_total(), plain.total());
  std::set<std::int64_t> listed;
  std::int64_t repeating = 0;
  for (std::int64_t page = 1; page <= data.total_pages(); ++page) {
    std::string body;
    data.append_listing_json(body, page, std::to_string(page));
    const auto items = boost::json::parse(body).at("items").as_array();
    ASSERT_EQ(items.size(), 10U) << "a repeating page keeps its size";
    const auto last = items.back().at("id").to_number<std::int64_t>();
    if (data.repeats_on(page)) {
      ++repeating;
      EXPECT_EQ(last, (page - 2) * 10) << "page " << page;
      EXPECT_FALSE(data.listed(page * 10 - 1));
    } else {
      EXPECT_EQ(last, page * 10 - 1);
      EXPECT_TRUE(data.listed(page * 10 - 1));
    }
    for (const auto& item : items)
      listed.insert(item.at("id").to_number<std::int64_t>());
  }
  EXPECT_FALSE(data.repeats_on(1)) << "the first page has no page before it";
  EXPECT_GT(repeating, 30);  // about 30% of 199 pages
  EXPECT_LT(repeating, 90);
  EXPECT_EQ(data.listed_total(), data.total() - repeating);
  EXPECT_EQ(static_cast<std::int64_t>(listed.size()), data.listed_total());
}

}  // namespace
}  // namespace etl
