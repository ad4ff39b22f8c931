// Parsing and validation of the animals API's bodies: a listing page and one animal's detail.
//
// Validation rules (docs/animals-api.md): `id` an integer >= 0 (floats such as 3.5 or 5.0, strings,
// negatives and values above int64 are refused); `name` a non-empty string; `born_at` present: null
// (no date) or an integer within born_at_min_ms..born_at_max_ms; `friends` a string, maybe
// empty. Unknown extra fields are ignored; a key given twice keeps its last value. Strings are
// valid UTF-8 once parsed (invalid UTF-8 is a JSON error).
#pragma once

#include <string_view>

#include <boost/system/result.hpp>

#include "etl/animal/animal.hpp"

namespace etl {

// Either a T or the rejection that says why not.
template <class T>
using parse_result = boost::system::result<T, rejection>;

// Parses a listing page {"page", "total_pages", "items": [...]}.
// Errors: a body that is not JSON or not an object (field "body"), `items` missing or not an
// array, `total_pages` or `page` missing or not an integer >= 0. An item that fails validation
// does not fail the page: it goes to `rejected` with its id when readable and its JSON text.
parse_result<listing_page> parse_listing_page(std::string_view body);

// Parses one animal's detail {"id", "name", "born_at", "friends"}.
// Errors: a body that is not JSON or not an object (field "body"), or the first field that
// breaks the rules above, checked in the order id, name, born_at, friends.
parse_result<animal_detail> parse_detail(std::string_view body);

}  // namespace etl
