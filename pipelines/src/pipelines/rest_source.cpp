#include "etl/pipelines/rest_source.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <span>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "etl/http/url.hpp"
#include "etl/pipelines/records.hpp"

namespace etl {
namespace {

namespace js = boost::json;

// A query value as the URL carries it.
std::string query_encode(std::string_view s) {
  return percent_encode(s, "-._~");
}

std::string param_text(const js::value& v) {
  if (v.is_string())
    return std::string(v.get_string());
  if (v.is_null())
    return {};
  return js::serialize(v);
}

// The parameter's name when `text` is exactly one "{params.NAME}" placeholder.
std::optional<std::string_view> only_param(std::string_view text) {
  if (!text.starts_with("{params.") || !text.ends_with('}') ||
      text.find('{', 1) != std::string_view::npos)
    return std::nullopt;
  return text.substr(8, text.size() - 9);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> keys;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto dot = path.find('.', start);
    keys.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return keys;
}

}  // namespace

boost::system::result<source_credentials, std::string> read_credentials(const source_auth& auth) {
  const char* set = std::getenv(auth.env.c_str());
  if (set == nullptr || *set == '\0')
    return {boost::system::in_place_error,
            "the environment variable " + auth.env + " (source.auth.env) is not set or empty"};
  return source_credentials{auth.header, auth.query, set};
}

void present_credentials(const source_credentials& c, http_client_options& opts) {
  if (!c.header.empty())
    opts.headers.emplace_back(c.header, c.secret);
  else
    opts.redact_query.push_back(c.query);
}

std::string base_path_of(const url& base) {
  std::string path = base.target.substr(0, base.target.find('?'));
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return path;
}

std::string redact_secret(std::string text, std::string_view secret) {
  if (secret.empty())
    return text;
  for (const auto& form : {std::string(secret), query_encode(secret)}) {
    for (auto at = text.find(form); at != std::string::npos; at = text.find(form, at + 3))
      text.replace(at, form.size(), "***");
  }
  return text;
}

std::string resolve(const env_value& v) {
  if (!v.env.empty()) {
    const char* set = std::getenv(v.env.c_str());
    if (set != nullptr && *set != '\0')
      return set;
  }
  return v.value;
}

std::string fill_placeholders(std::string_view text, const request_values& v, bool encode) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find('{', i);
    if (open == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) {  // the loader refuses these; keep the text as is
      out += text.substr(open);
      break;
    }
    const auto name = text.substr(open + 1, close - open - 1);
    std::string value;
    if (name == "page") {
      value = std::to_string(v.page);
    } else if (name == "offset") {
      value = std::to_string(v.offset);
    } else if (name == "limit") {
      value = std::to_string(v.limit);
    } else if (name == "window.start") {
      value = v.window_start;
    } else if (name == "window.end") {
      value = v.window_end;
    } else if (name == "cursor.start") {
      value = v.cursor_start;
    } else if (name.starts_with("params.")) {
      if (const auto* p = v.params.if_contains(name.substr(7)))
        value = param_text(*p);
    }
    out += encode ? query_encode(value) : value;
    i = close + 1;
  }
  return out;
}

namespace {

// `v` with an offset paginator's {offset} and {limit} set from its page.
request_values with_offset(const source_spec& source, const request_values& v) {
  auto out = v;
  const auto& pager = source.paginator;
  out.offset = std::max<std::int64_t>(0, v.page - pager.first_page) * pager.page_size;
  out.limit = pager.page_size;
  return out;
}

}  // namespace

std::string page_target(const source_spec& source, std::string_view base_path,
                        const request_values& given) {
  const auto v = with_offset(source, given);
  std::string target(base_path);
  target += fill_placeholders(source.path, v, false);
  char sep = target.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : source.query) {
    // A value that is only an optional parameter without a value leaves its name out too.
    if (const auto name_only = only_param(value); name_only && !v.params.contains(*name_only))
      continue;
    target += sep;
    target += query_encode(name);
    target += '=';
    target += fill_placeholders(value, v, true);
    sep = '&';
  }
  if (v.after && source.method != "POST") {
    target += sep;
    target += query_encode(source.paginator.after_param) + "=" + query_encode(*v.after);
  }
  return target;
}

namespace {

// The body template with its strings filled in.
js::value fill_body(const js::value& t, const request_values& v) {
  if (t.is_object()) {
    js::object o;
    for (const auto& [key, value] : t.get_object())
      o[key] = fill_body(value, v);
    return o;
  }
  if (t.is_array()) {
    js::array a;
    for (const auto& item : t.get_array())
      a.push_back(fill_body(item, v));
    return a;
  }
  if (!t.is_string())
    return t;
  const std::string_view text = t.get_string();
  if (text == "{page}")
    return v.page;
  if (text == "{offset}")
    return v.offset;
  if (text == "{limit}")
    return v.limit;
  if (const auto name = only_param(text)) {
    const auto* p = v.params.if_contains(*name);
    return p != nullptr ? *p : js::value(nullptr);
  }
  return js::value(fill_placeholders(text, v, false));
}

// A body as one JSON line: CR and LF occur only between tokens of valid JSON (inside a string
// they are escaped), so spaces in their place keep it the same JSON.
std::string one_line(std::string body) {
  for (auto& c : body) {
    if (c == '\r' || c == '\n')
      c = ' ';
  }
  return body;
}

// The next page's target from an answer's link at `path`: none for null, absent or "". A link
// is a path from the origin's root, or an absolute URL on `origin` (compared without regard to
// case); anything else is refused, since the request would carry the source's credentials.
boost::system::result<std::optional<std::string>, std::string> next_link_of(
    const js::value& body, std::span<const std::string> path, std::string_view origin) {
  using outcome = boost::system::result<std::optional<std::string>, std::string>;
  if (!body.is_object())
    return outcome(boost::system::in_place_error, "the body is not an object holding a next link");
  auto at = value_at(body.get_object(), path);
  if (!at)
    return outcome(boost::system::in_place_error, at.error());
  if ((*at)->is_null())
    return std::optional<std::string>();
  if (!(*at)->is_string())
    return outcome(boost::system::in_place_error,
                   "the next link is neither a string nor null: " + js::serialize(**at));
  const std::string_view link = (*at)->get_string();
  if (link.empty())
    return std::optional<std::string>();
  if (link.starts_with('/') && !link.starts_with("//"))
    return std::optional<std::string>(link);
  const auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  if (link.size() > origin.size() && same(link.substr(0, origin.size()), origin) &&
      (link[origin.size()] == '/' || link[origin.size()] == '?')) {
    auto rest = std::string(link.substr(origin.size()));
    return std::optional<std::string>(rest.front() == '?' ? "/" + rest : rest);
  }
  return outcome(boost::system::in_place_error,
                 "the next link '" + std::string(link.substr(0, 200)) +
                     "' is not on the source's origin " + std::string(origin));
}

// Requests `target` (one page, GET or POST with page_body) and reads its records:
// fetch_rest_page's work.
net::awaitable<boost::system::result<rest_page, page_failure>> fetch_page_at(
    http_client& client, const source_spec& source, std::string target, const request_values& v) {
  const auto where = "page " + std::to_string(v.page) + ": ";
  http_result answer;
  if (source.method == "POST")
    answer = co_await client.query(std::move(target), page_body(source, v));
  else
    answer = co_await client.get(std::move(target));
  if (!answer) {
    page_failure failure(where + answer.error().describe());
    failure.status = answer.error().last_status;
    co_return failure;
  }
  rest_page out;
  out.retries = answer->attempts > 0 ? answer->attempts - 1 : 0;
  out.hedges = answer->hedges;
  if (answer->status != 200) {
    const bool refused = answer->status == 401 || answer->status == 403;
    page_failure failure(where + "status " + std::to_string(answer->status) + " from " +
                             client.origin() + ": " + answer->body.substr(0, 200) +
                             (refused ? " (the upstream refuses the credentials)" : ""),
                         refused);
    failure.status = answer->status;
    co_return failure;
  }
  boost::system::error_code ec;
  auto body = js::parse(answer->body, ec);
  if (ec)
    co_return where + "the body is not JSON: " + ec.message();
  const js::value* records = &body;
  if (!source.records.empty()) {
    if (!body.is_object())
      co_return where + "the body is not an object holding '" + source.records + "'";
    auto at = value_at(body.get_object(), split_path(source.records));
    if (!at)
      co_return where + at.error();
    records = *at;
  }
  if (!records->is_array()) {
    co_return where + "no array at '" + (source.records.empty() ? "(the body)" : source.records) +
        "'";
  }
  out.records = records->get_array();
  out.raw = one_line(std::move(answer->body));
  if (!source.paginator.total_pages.empty()) {
    if (!body.is_object())
      co_return where + "the body is not an object holding '" + source.paginator.total_pages + "'";
    auto total = value_at(body.get_object(), split_path(source.paginator.total_pages));
    if (!total || !(*total)->is_int64() || (*total)->get_int64() < 0)
      co_return where + "no page count (a non-negative integer) at '" +
          source.paginator.total_pages + "'";
    out.total_pages = (*total)->get_int64();
  }
  if (!source.paginator.total_records.empty()) {
    const auto& path = source.paginator.total_records;
    auto total = body.is_object() ? value_at(body.get_object(), split_path(path))
                                  : boost::system::result<const js::value*, std::string>(
                                        boost::system::in_place_error, "not an object");
    if (!total || !(*total)->is_int64() || (*total)->get_int64() < 0)
      co_return where + "no record count (a non-negative integer) at '" + path + "'";
    const auto size = std::max(1, source.paginator.page_size);
    out.total_pages = ((*total)->get_int64() + size - 1) / size;
  }
  if (!source.paginator.has_more.empty()) {
    auto at = body.is_object() ? value_at(body.get_object(), source.paginator.has_more)
                               : boost::system::result<const js::value*, std::string>(
                                     boost::system::in_place_error, "not an object");
    if (!at || !(*at)->is_bool()) {
      std::string path;
      for (const auto& k : source.paginator.has_more)
        path += (path.empty() ? "" : ".") + k;
      co_return where + "no boolean at '" + path + "' (the paginator's has_more)";
    }
    out.has_more = (*at)->get_bool();
  }
  if (!source.paginator.next.empty()) {
    const auto origin = client.origin();
    auto next = next_link_of(body, source.paginator.next, origin);
    if (!next)  // no retry mends a link: the upstream would give it again
      co_return page_failure(where + next.error(), true);
    out.next_link = std::move(*next);
  }
  co_return out;
}

}  // namespace

std::string page_body(const source_spec& source, const request_values& given) {
  if (source.method != "POST")
    return "";
  const auto v = with_offset(source, given);
  auto body = source.body ? fill_body(*source.body, v) : js::value(js::object{});
  if (v.after && body.is_object())
    body.get_object()[source.paginator.after_param] = *v.after;
  return js::serialize(body);
}

request_values chain_request(const paginator_spec& pager, const js::object& params,
                             std::string cursor_start, const chain_start& start) {
  request_values v{pager.first_page, params, {}, {}, std::move(cursor_start)};
  if (pager.kind == paginator_kind::keyset)
    v.after = start;
  else if (pager.kind == paginator_kind::next_link)
    v.link = start;
  else if (start)
    v.page = std::stoll(*start);
  return v;
}

boost::system::result<std::string, std::string> chain_next(const paginator_spec& pager,
                                                           const request_values& v,
                                                           const rest_page& got,
                                                           std::int64_t read) {
  using outcome = boost::system::result<std::string, std::string>;
  // T and E are both strings: say which one each return is.
  const auto value = [](std::string s) {
    return outcome(boost::system::in_place_value, std::move(s));
  };
  const auto size = got.records.size();
  const bool full = size > 0 && size >= static_cast<std::size_t>(pager.page_size);
  if ((got.has_more && !*got.has_more) || (pager.max_pages > 0 && read >= pager.max_pages))
    return value({});
  switch (pager.kind) {
    case paginator_kind::keyset: {
      if (!full)
        return value({});
      const auto& last = got.records.back();
      auto at = last.is_object() ? value_at(last.get_object(), pager.after_from)
                                 : boost::system::result<const js::value*, std::string>(
                                       boost::system::in_place_error, "not an object");
      if (at && (*at)->is_string())
        return value(std::string((*at)->get_string()));
      if (at && (*at)->is_int64())
        return value(std::to_string((*at)->get_int64()));
      std::string path;
      for (const auto& k : pager.after_from)
        path += (path.empty() ? "" : ".") + k;
      return outcome(
          boost::system::in_place_error,
          "keyset: the page's last record has no string or integer key at '" + path + "'");
    }
    case paginator_kind::next_link:
      return value(got.next_link.value_or(""));
    case paginator_kind::offset:
      return value(full ? std::to_string(v.page + 1) : std::string());
    case paginator_kind::page_number:
    case paginator_kind::single:
      break;
  }
  return value({});
}

net::awaitable<boost::system::result<rest_page, page_failure>> fetch_rest_page(
    http_client& client, const source_spec& source, std::string_view base_path,
    const request_values& v, const source_credentials* credentials) {
  // A linked page's target is the link itself, which may already carry the query secret.
  auto target = v.link ? *v.link : page_target(source, base_path, v);
  const bool has_secret =
      v.link && credentials && !credentials->query.empty() &&
      (target.find("?" + query_encode(credentials->query) + "=") != std::string::npos ||
       target.find("&" + query_encode(credentials->query) + "=") != std::string::npos);
  if (credentials && !credentials->query.empty() && !has_secret) {
    target += target.find('?') == std::string::npos ? '?' : '&';
    target += query_encode(credentials->query) + "=" + query_encode(credentials->secret);
  }
  auto got = co_await fetch_page_at(client, source, std::move(target), v);
  if (!got && credentials) {
    auto failure = got.error();
    failure.what = redact_secret(std::move(failure.what), credentials->secret);
    co_return failure;
  }
  co_return std::move(got);
}

}  // namespace etl
