// spacex-sim's data: launches (v5 shape) and crew (v4 shape) generated from a seed with the real
// dataset's edges (docs/simulators.md lists them), and the MongoDB-style query the API answers.
//
// The records are built once at start as JSON objects in the real API's key order; the query
// functions are pure (records and a request body in, an answer or a 400 message out), so unit
// tests check the paging envelope and filters without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

namespace etl {

inline constexpr std::size_t spacex_default_launches = 205;
inline constexpr std::size_t spacex_crew_count = 30;

struct spacex_dataset {
  std::vector<boost::json::object> launches;  // flight_number order (GET /v5/launches)
  std::vector<boost::json::object> crew;      // ascending id (GET /v4/crew)
};

// Generates `launches` launches (205: the real dataset's shape; more: extra past launches spread
// over 2006-03-24..2022-10-07; fewer: the first ones by flight number) and the 30 crew. With
// `crew_quirks`, some crew get null fields, empty launches and statuses other than active.
spacex_dataset make_spacex_dataset(std::uint64_t seed, std::size_t launches, bool crew_quirks);

// A query that MongoDB or Mongoose refuses: the API answers 400 with this plain-text message.
struct spacex_bad_query {
  std::string message;
};

template <class T>
using spacex_result = boost::system::result<T, spacex_bad_query>;

// Whether `record` matches the MongoDB filter `filter` ($eq $ne $gt $gte $lt $lte $in $nin
// $exists $regex $options $not, $and $or $nor, dotted paths through arrays), after casting its
// values to the schema's types as Mongoose does. `model` names the model in cast errors.
spacex_result<bool> spacex_matches(const boost::json::object& record,
                                   const boost::json::object& filter, std::string_view model);

// The paging envelope's numbers, as mongoose-paginate-v2 computes them.
struct spacex_page_plan {
  std::size_t skip = 0;
  std::size_t take = 0;  // records to return after skip
  std::int64_t limit = 0;
  std::int64_t page = 1;
  std::optional<std::int64_t> offset;  // echoed when sent, or 0 when neither page nor offset was
  std::int64_t total_pages = 1;
  std::int64_t paging_counter = 1;
  bool has_prev = false;
  bool has_next = false;
};

// Plans a page of `total` matches from the query's options (page, limit, offset, pagination).
spacex_page_plan spacex_plan_page(std::size_t total, const boost::json::object& options);

// The answer to a POST .../query body (already parsed): {"query": filter, "options": {select,
// sort, page, limit, offset, pagination}}. `tie_salt` orders records that tie on every sort key
// (the real API's order within a tie is arbitrary: it differs between pages); records without a
// sort keep natural order. `v4` renders launches' crew as bare ids. Returns the envelope in the
// API's key order and the records it holds, or the 400 message.
struct spacex_query_answer {
  boost::json::object envelope;
  std::vector<const boost::json::object*> records;  // the records in "docs", in order
};
spacex_result<spacex_query_answer> spacex_query(const std::vector<boost::json::object>& records,
                                                const boost::json::value& body,
                                                std::string_view model,
                                                std::optional<std::uint64_t> tie_salt);

// A record as the API renders it after a select (inclusion or exclusion, dotted paths; "id"
// always kept unless excluded): keys stay in the record's order.
boost::json::object spacex_select(const boost::json::object& record,
                                  const boost::json::value& select);

// A launch in the v4 shape: crew as an array of ids.
boost::json::object spacex_launch_v4(const boost::json::object& launch);

}  // namespace etl
