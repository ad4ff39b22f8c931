// The `rest` source kind for pipelines without a hand-written model: the request of one page
// built from the spec (path, query and a POST's JSON body with {page}, {params.NAME},
// {window.start} and {window.end} filled in), the records found at the spec's `records` path of
// the answer, and the page count where the paginator says an answer holds it. The HTTP client
// underneath retries (and hedges GETs) as for every upstream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include "etl/http/client.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

// The value of `v`: its environment variable when that is set and not empty, else its default.
std::string resolve(const env_value& v);

// What a request's placeholders are filled from.
struct request_values {
  std::int64_t page = 1;  // the paginator's numbering: first_page is the first
  const boost::json::object& params;
  std::string window_start;  // YYYY-MM-DD; empty outside a windowed pipeline
  std::string window_end;
};

// `text` with {page}, {params.NAME}, {window.start} and {window.end} replaced; `encode`
// percent-encodes each replacement (for a query value). A parameter without a value becomes "".
std::string fill_placeholders(std::string_view text, const request_values& v, bool encode);

// The request target (base URL path + spec path + query) of one page. A query entry whose
// value is just "{params.NAME}" of a parameter without a value is left out.
// `base_path` is the path part of the base URL ("" or "/api", no trailing '/').
std::string page_target(const source_spec& source, std::string_view base_path,
                        const request_values& v);

// The JSON body of one page's POST: the spec's body with its placeholders filled in; a string
// that is exactly one placeholder becomes the value itself ({page}: a number). "" for a GET.
std::string page_body(const source_spec& source, const request_values& v);

struct rest_page {
  boost::json::array records;  // as received, in order
  std::string raw;             // the answer's body as one line (its CR and LF bytes made spaces)
  std::optional<std::int64_t> total_pages;  // when the paginator reads it from this answer
  std::int64_t retries = 0;                 // HTTP attempts beyond the first
  std::int64_t hedges = 0;                  // hedged copies sent
};

// Requests one page (GET, or POST with page_body) and reads its records. Fails with
// "page N: <why>": the client's failure, a status other than 200, a body that is not JSON, no
// array at the `records` path, or no integer at the paginator's `total_pages` path.
net::awaitable<boost::system::result<rest_page, std::string>> fetch_rest_page(
    http_client& client, const source_spec& source, std::string_view base_path,
    const request_values& v);

}  // namespace etl
