// The `rest` source kind for pipelines without a hand-written model: the request of one page
// built from the spec (path, query and a POST's JSON body with {page}, {params.NAME},
// {window.start}, {window.end} and {cursor.start} filled in, and a keyset paginator's key to
// start after), the records found at the spec's `records` path of
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
#include "etl/http/url.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

// The most pages a task reads: ten million animals at their page size.
inline constexpr std::int64_t max_total_pages = 1'000'000;

// The secret of a source's `auth`, as read from its environment variable, and where it goes.
struct source_credentials {
  std::string header;  // set: the secret is this header's value (the client sends it)
  std::string query;   // set: the secret is this query parameter's value
  std::string secret;  // never logged, never in an error text (see redact_secret)
};

// Reads the variable `auth.env` names. Fails when it is unset or empty, with a reason that names
// the variable (never a value): a task of the pipeline fails at once with it, since no retry
// can make the variable appear.
boost::system::result<source_credentials, std::string> read_credentials(const source_auth& auth);

// Puts `c`'s secret where its source sends it: a header every request of a client made with
// `opts` carries, or a query parameter that client redacts from its logs and errors.
void present_credentials(const source_credentials& c, http_client_options& opts);

// The path of a source's base URL that each request's `path` is appended to: its target without
// the query and without trailing slashes.
std::string base_path_of(const url& base);

// `text` with every occurrence of `secret`, as written and as percent-encoded in a query, replaced
// by "***": for error texts that may echo a request (an upstream's error body may quote its URL).
std::string redact_secret(std::string text, std::string_view secret);

// The value of `v`: its environment variable when that is set and not empty, else its default.
std::string resolve(const env_value& v);

// What a request's placeholders are filled from.
struct request_values {
  std::int64_t page = 1;  // the paginator's numbering: first_page is the first
  const boost::json::object& params;
  std::string window_start;  // YYYY-MM-DD; empty outside a windowed pipeline
  std::string window_end;
  std::string cursor_start;          // an incremental task's start ({cursor.start})
  std::optional<std::string> after;  // keyset: the key this page starts after; none: the first
  // next_link: the page's target as the previous answer linked it (checked by fetch_rest_page);
  // none: the spec's request.
  std::optional<std::string> link;
  // {offset} and {limit}: set by page_target and page_body from the page and the paginator.
  std::int64_t offset = 0;
  std::int64_t limit = 0;
};

// `text` with {page}, {params.NAME}, {window.start}, {window.end} and {cursor.start} replaced;
// `encode` percent-encodes each replacement (for a query value). A parameter without a value
// becomes "". {offset} and {limit} are an offset paginator's: see page_target.
std::string fill_placeholders(std::string_view text, const request_values& v, bool encode);

// The request target (base URL path + spec path + query) of one page. A query entry whose
// value is just "{params.NAME}" of a parameter without a value is left out. A GET's keyset key
// is the paginator's after_param, last. {offset} is (page - first_page) * page_size and
// {limit} the page size (here and in page_body).
// `base_path` is the path part of the base URL ("" or "/api", no trailing '/').
std::string page_target(const source_spec& source, std::string_view base_path,
                        const request_values& v);

// The JSON body of one page's POST: the spec's body with its placeholders filled in; a string
// that is exactly one placeholder becomes the value itself ({page}: a number); a keyset key is
// the member after_param. "" for a GET.
std::string page_body(const source_spec& source, const request_values& v);

struct rest_page {
  boost::json::array records;  // as received, in order
  std::string raw;             // the answer's body as one line (its CR and LF bytes made spaces)
  std::optional<std::int64_t> total_pages;  // when the paginator reads it from this answer
  std::int64_t retries = 0;                 // HTTP attempts beyond the first
  std::int64_t hedges = 0;                  // hedged copies sent
  // next_link: the next page's target (a path with its query) on the source's origin; none at
  // the last page.
  std::optional<std::string> next_link;
  // The answer's word on whether more pages follow, when the paginator names where it is.
  std::optional<bool> has_more;
};

// Why a page could not be read. `refused`: no retry mends it (the upstream turned the
// credentials down with 401 or 403, or linked to another origin): the task fails at once with
// `what`.
struct page_failure {
  page_failure() = default;
  // Implicit: most failures are only their text.
  page_failure(std::string why, bool refusal = false) : what(std::move(why)), refused(refusal) {}

  std::string what;
  bool refused = false;
  unsigned status = 0;  // the upstream's last status when it was not 200 (after the client's
                        // retries too); 0: no answer
};

// A chained paginator's position (paginator_spec::chained): where a page starts, as the ledger
// keeps it between batches. Keyset: the key to start after; next_link: the page's target; offset:
// the page number. None: the chain's first page.
using chain_start = std::optional<std::string>;

// The request values of the chain page at `start` (placeholders from `params` and the task's
// `cursor_start`), and its page number.
request_values chain_request(const paginator_spec& pager, const boost::json::object& params,
                             std::string cursor_start, const chain_start& start);

// Where the chain goes on after `got`, the page `v` asked for and the `read`-th page of the
// task (from 1): the key of its last record (keyset), its link (next_link), the next page number
// (offset); "" when `got` is the last page (shorter than page_size, without a link, its
// has_more false) or the task has read max_pages. Fails when a full keyset page's last record
// has no string or integer key.
boost::system::result<std::string, std::string> chain_next(const paginator_spec& pager,
                                                           const request_values& v,
                                                           const rest_page& got, std::int64_t read);

// Requests one page (GET, or POST with page_body; `v.link` when set) and reads its records.
// Fails with "page N: <why>": the client's failure, a status other than 200, a body that is not
// JSON, no array at the `records` path, no integer at the paginator's `total_pages` or
// `total_records` path, a next link that is not a string or null, or one to another origin
// (which would carry the source's credentials elsewhere).
// `credentials`, when given, adds a query secret to the target, and its secret is redacted from
// the failure's text (a header secret travels in the client's own headers).
net::awaitable<boost::system::result<rest_page, page_failure>> fetch_rest_page(
    http_client& client, const source_spec& source, std::string_view base_path,
    const request_values& v, const source_credentials* credentials = nullptr);

}  // namespace etl
