#include "etl/pipelines/spec_loader.hpp"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "etl/pipelines/names.hpp"
#include "etl/pipelines/records.hpp"

namespace etl {

std::string spec_error::describe() const {
  std::string s = file;
  if (line > 0)
    s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!field.empty())
    s += field + ": ";
  return s + message;
}

void throw_exception_from_error(const spec_error& e, const boost::source_location&) {
  throw std::runtime_error(e.describe());
}

const param_spec* pipeline_spec::param(std::string_view name) const noexcept {
  for (const auto& p : params) {
    if (p.name == name)
      return &p;
  }
  return nullptr;
}

std::span<const field_spec> pipeline_spec::fields_of(const sink_spec& sink) const noexcept {
  switch (sink.input) {
    case sink_input::records:
      return fields;
    case sink_input::child:
      for (const auto& c : children) {
        if (c.name == sink.child)
          return c.fields;
      }
      return {};
    case sink_input::pages:
      return {};
  }
  return {};
}

bool pipeline_spec::one_batch_per_task() const noexcept {
  return std::any_of(sinks.begin(), sinks.end(), [](const sink_spec& s) {
    return s.kind == sink_kind::files && s.file_name.find("{batch}") == std::string::npos;
  });
}

std::string_view to_string(param_type t) noexcept {
  switch (t) {
    case param_type::boolean:
      return "bool";
    case param_type::integer:
      return "int";
    case param_type::string:
      return "string";
    case param_type::date:
      return "date";
  }
  return "?";
}

std::string_view to_string(field_type t) noexcept {
  switch (t) {
    case field_type::integer:
      return "int";
    case field_type::number:
      return "number";
    case field_type::string:
      return "string";
    case field_type::boolean:
      return "bool";
    case field_type::epoch_ms:
      return "epoch_ms";
    case field_type::string_list:
      return "string_list";
    case field_type::date_time:
      return "date_time";
    case field_type::date:
      return "date";
    case field_type::string_array:
      return "string_array";
    case field_type::string_or_number:
      return "string_or_number";
  }
  return "?";
}

std::string_view to_string(sink_kind k) noexcept {
  switch (k) {
    case sink_kind::http_batch:
      return "http_batch";
    case sink_kind::postgres:
      return "postgres";
    case sink_kind::files:
      return "files";
  }
  return "?";
}

std::string_view to_string(file_format f) noexcept {
  switch (f) {
    case file_format::csv:
      return "csv";
    case file_format::jsonl:
      return "jsonl";
    case file_format::parquet:
      return "parquet";
  }
  return "?";
}

namespace {

// Thrown inside the loader only and turned into a spec_error at its edge: loading is start-up
// work, and one bad field ends it.
struct spec_failure {
  spec_error error;
};

// A node of the spec with the dotted path that leads to it, for errors.
class spec_node {
 public:
  spec_node(YAML::Node node, std::string path, const std::string& file)
      : node_(std::move(node)), path_(std::move(path)), file_(file) {}

  [[noreturn]] void fail(const std::string& message) const { fail_at(node_, path_, message); }

  [[noreturn]] void fail_at(const YAML::Node& n, const std::string& path,
                            const std::string& message) const {
    spec_error e{file_, 0, 0, path, message};
    const auto mark = n.Mark();
    if (!mark.is_null()) {
      e.line = mark.line + 1;
      e.column = mark.column + 1;
    }
    throw spec_failure{std::move(e)};
  }

  const std::string& path() const noexcept { return path_; }
  const YAML::Node& yaml() const noexcept { return node_; }
  bool has(const char* key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }

  // This node must be a map holding only `known` keys.
  const spec_node& map_of(std::initializer_list<const char*> known) const {
    if (!node_.IsMap())
      fail("must be a map");
    for (const auto& kv : node_) {
      const auto key = kv.first.as<std::string>();
      if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
        std::string list;
        for (const char* k : known)
          list += (list.empty() ? "" : ", ") + std::string(k);
        fail_at(kv.first, child_path(key), "unknown key (known here: " + list + ")");
      }
    }
    return *this;
  }

  spec_node child(const char* key) const {
    const auto n = node_[key];
    if (!n.IsDefined() || n.IsNull())
      fail("missing '" + std::string(key) + "'");
    return {n, child_path(key), file_};
  }

  std::string str(const char* key) const { return child(key).scalar(); }
  std::string str_or(const char* key, std::string fallback) const {
    return has(key) ? str(key) : std::move(fallback);
  }

  std::int64_t integer(const char* key) const { return child(key).as_integer(); }
  std::int64_t integer_or(const char* key, std::int64_t fallback) const {
    return has(key) ? integer(key) : fallback;
  }

  bool boolean(const char* key) const { return child(key).as_boolean(); }
  bool boolean_or(const char* key, bool fallback) const {
    return has(key) ? boolean(key) : fallback;
  }

  std::string scalar() const {
    if (!node_.IsScalar())
      fail("must be a text value");
    return node_.Scalar();
  }

  std::int64_t as_integer() const {
    const auto s = scalar();
    std::size_t used = 0;
    std::int64_t v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size())
      fail("must be an integer, not '" + s + "'");
    return v;
  }

  bool as_boolean() const {
    const auto s = scalar();
    if (s == "true")
      return true;
    if (s == "false")
      return false;
    fail("must be true or false, not '" + s + "'");
  }

  // The entries of a map, in file order, each with its key.
  std::vector<std::pair<std::string, spec_node>> entries() const {
    if (!node_.IsMap())
      fail("must be a map");
    std::vector<std::pair<std::string, spec_node>> out;
    for (const auto& kv : node_) {
      const auto key = kv.first.as<std::string>();
      out.emplace_back(key, spec_node(kv.second, child_path(key), file_));
    }
    return out;
  }

  // The items of a list.
  std::vector<spec_node> items() const {
    if (!node_.IsSequence())
      fail("must be a list");
    std::vector<spec_node> out;
    for (std::size_t i = 0; i < node_.size(); ++i)
      out.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", file_);
    return out;
  }

  // One of `names` (an enum's spelling), else an error listing them.
  template <class E>
  E choice(const char* key, std::initializer_list<std::pair<const char*, E>> names) const {
    const auto n = child(key);
    const auto s = n.scalar();
    for (const auto& [name, value] : names) {
      if (s == name)
        return value;
    }
    std::string list;
    for (const auto& [name, value] : names)
      list += (list.empty() ? "" : ", ") + std::string(name);
    n.fail("unknown value '" + s + "' (known: " + list + ")");
  }

 private:
  std::string child_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  YAML::Node node_;
  std::string path_;
  const std::string& file_;
};

std::string snake_name(const spec_node& n) {
  auto s = n.scalar();
  if (!is_snake_case(s))
    n.fail("'" + s + "' is not a snake_case name ([a-z][a-z0-9_]*, at most 63 bytes)");
  return s;
}

// Checks every {placeholder} of `text` against what this place of the spec may use.
void check_placeholders(const spec_node& at, const std::string& text,
                        const std::set<std::string>& allowed) {
  std::size_t i = 0;
  while ((i = text.find_first_of("{}", i)) != std::string::npos) {
    if (text[i] == '}')
      at.fail("'}' without '{' in '" + text + "'");
    const auto end = text.find('}', i);
    if (end == std::string::npos)
      at.fail("'{' without '}' in '" + text + "'");
    const auto name = text.substr(i + 1, end - i - 1);
    if (!allowed.contains(name)) {
      std::string list;
      for (const auto& a : allowed)
        list += (list.empty() ? "" : ", ") + ("{" + a + "}");
      at.fail("unknown placeholder {" + name + "} (usable here: " + (list.empty() ? "none" : list) +
              ")");
    }
    i = end + 1;
  }
}

// The name of an environment variable at `n`: [A-Z][A-Z0-9_]*.
std::string env_name(const spec_node& n) {
  auto name = n.scalar();
  if (name.empty() ||
      name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos ||
      !(name[0] >= 'A' && name[0] <= 'Z'))
    n.fail("'" + name + "' is not an environment variable name ([A-Z][A-Z0-9_]*)");
  return name;
}

env_value read_env_value(const spec_node& n) {
  n.map_of({"default", "env"});
  env_value v{n.str_or("default", ""), n.has("env") ? env_name(n.child("env")) : ""};
  if (v.value.empty() && v.env.empty())
    n.fail("needs a 'default' or an 'env' variable");
  return v;
}

// source.auth: {env: NAME, header: H} or {env: NAME, query: P}. The secret itself never appears
// in a spec: only the variable that holds it.
source_auth read_source_auth(const spec_node& n) {
  n.map_of({"env", "header", "query"});
  source_auth a;
  a.env = env_name(n.child("env"));
  if (n.has("header") == n.has("query"))
    n.fail("needs exactly one of 'header' and 'query'");
  if (n.has("header")) {
    const auto h = n.child("header");
    a.header = h.scalar();
    // An HTTP token (RFC 9110): no spaces, colons or separators.
    if (a.header.empty() ||
        a.header.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789!#$%&'*+-.^_`|~") != std::string::npos)
      h.fail("'" + a.header + "' is not a header name");
  } else {
    const auto q = n.child("query");
    a.query = q.scalar();
    if (a.query.empty() || a.query.find_first_of("&=#?{} ") != std::string::npos)
      q.fail("'" + a.query + "' is not a query parameter name");
  }
  return a;
}

// source.rate_limit: {requests: N, per_seconds: S}, for the whole worker pool.
rate_limit_spec read_rate_limit(const spec_node& n) {
  n.map_of({"requests", "per_seconds"});
  rate_limit_spec r;
  const auto requests = n.integer("requests");
  if (requests < 1 || requests > 1'000'000)
    n.child("requests").fail("must be 1..1000000");
  const auto per = n.integer("per_seconds");
  if (per < 1 || per > 86'400)
    n.child("per_seconds").fail("must be 1..86400");
  r.requests = static_cast<int>(requests);
  r.per_seconds = static_cast<int>(per);
  return r;
}

param_spec read_param(const std::string& name, const spec_node& n) {
  n.map_of({"type", "default", "min", "max", "description"});
  param_spec p;
  p.name = name;
  p.type = n.choice<param_type>("type", {{"bool", param_type::boolean},
                                         {"int", param_type::integer},
                                         {"string", param_type::string},
                                         {"date", param_type::date}});
  p.description = n.str_or("description", "");
  if (p.type == param_type::integer) {
    if (n.has("min"))
      p.min = n.integer("min");
    if (n.has("max"))
      p.max = n.integer("max");
    if (p.min && p.max && *p.min > *p.max)
      n.child("max").fail("is below min");
  } else if (n.has("min") || n.has("max")) {
    n.fail("min and max are for int parameters");
  }
  if (n.has("default")) {
    const auto d = n.child("default");
    switch (p.type) {
      case param_type::boolean:
        p.default_value = d.as_boolean();
        break;
      case param_type::integer: {
        const auto v = d.as_integer();
        if ((p.min && v < *p.min) || (p.max && v > *p.max))
          d.fail("is outside min..max");
        p.default_value = v;
        break;
      }
      case param_type::string:
        if (d.yaml().IsMap()) {
          d.map_of({"random_hex"});
          const auto digits = d.integer("random_hex");
          if (digits < 1 || digits > 64)
            d.child("random_hex").fail("must be 1..64 (hex digits)");
          p.random_hex = static_cast<int>(digits);
        } else {
          p.default_value = d.scalar();
        }
        break;
      case param_type::date: {
        auto v = d.scalar();
        if (v != "today" && v != "yesterday" && !is_date(v))
          d.fail("'" + v + "' is not a date: YYYY-MM-DD, today or yesterday (UTC)");
        p.default_value = std::move(v);
        break;
      }
    }
  }
  return p;
}

// A YAML value as JSON: a plain (unquoted) scalar that reads as null, a boolean, an integer or
// a number becomes one; any other scalar, and every quoted one, a string, whose placeholders
// are checked against `allowed`.
boost::json::value yaml_to_json(const spec_node& n, const std::set<std::string>& allowed) {
  const auto& y = n.yaml();
  if (y.IsMap()) {
    boost::json::object o;
    for (const auto& [key, value] : n.entries())
      o[key] = yaml_to_json(value, allowed);
    return o;
  }
  if (y.IsSequence()) {
    boost::json::array a;
    for (const auto& item : n.items())
      a.push_back(yaml_to_json(item, allowed));
    return a;
  }
  if (y.IsNull())
    return nullptr;
  const auto text = n.scalar();
  if (y.Tag() == "?") {  // plain: YAML's own types
    if (text == "true" || text == "false")
      return text == "true";
    if (text == "null" || text == "~")
      return nullptr;
    std::size_t used = 0;
    try {
      const auto i = std::stoll(text, &used);
      if (used == text.size())
        return i;
      const auto d = std::stod(text, &used);
      if (used == text.size())
        return d;
    } catch (const std::exception&) {
    }
  }
  check_placeholders(n, text, allowed);
  return boost::json::value(boost::json::string_view(text));
}

std::vector<std::string> read_path(const spec_node& n);

source_spec read_source(const spec_node& n, const std::set<std::string>& param_names, bool windowed,
                        bool incremental) {
  n.map_of({"kind", "base_url", "method", "path", "query", "body", "records", "key", "paginator",
            "detail", "auth", "rate_limit", "quota_reset_seconds"});
  source_spec s;
  s.kind = n.choice<source_kind>("kind", {{"rest", source_kind::rest}});
  s.base_url = read_env_value(n.child("base_url"));
  if (n.has("method"))
    s.method = n.choice<std::string>("method",
                                     {{"GET", std::string("GET")}, {"POST", std::string("POST")}});
  s.records = n.str_or("records", "");
  s.key = snake_name(n.child("key"));
  if (n.has("auth"))
    s.auth = read_source_auth(n.child("auth"));
  if (n.has("rate_limit"))
    s.rate_limit = read_rate_limit(n.child("rate_limit"));
  if (n.has("quota_reset_seconds")) {
    const auto seconds = n.integer("quota_reset_seconds");
    if (seconds < 1 || seconds > 3600)
      n.child("quota_reset_seconds").fail("must be 1..3600 (seconds)");
    s.quota_reset_seconds = static_cast<int>(seconds);
  }

  const auto pager = n.child("paginator");
  s.paginator.kind =
      pager.choice<paginator_kind>("kind", {{"page_number", paginator_kind::page_number},
                                            {"single", paginator_kind::single},
                                            {"keyset", paginator_kind::keyset},
                                            {"offset", paginator_kind::offset},
                                            {"next_link", paginator_kind::next_link}});
  // How many pages one batch of a chain reads (its files' size), and the chain's stop rules
  // besides a short page: a boolean in each answer, and a most pages a task reads.
  const auto read_pages_per_batch = [&] {
    const auto per_batch = pager.integer_or("pages_per_batch", 1);
    if (per_batch < 1 || per_batch > 1'000)
      pager.child("pages_per_batch").fail("must be 1..1000");
    s.paginator.pages_per_batch = static_cast<int>(per_batch);
    if (pager.has("has_more"))
      s.paginator.has_more = read_path(pager.child("has_more"));
    const auto most = pager.integer_or("max_pages", 0);
    if (most < 0 || most > 1'000'000)
      pager.child("max_pages").fail("must be 1..1000000 (0 or absent: no maximum)");
    s.paginator.max_pages = most;
  };
  if (s.paginator.kind == paginator_kind::single) {
    // One request: no page count to read; a batch is that one page.
    pager.map_of({"kind"});
    s.paginator.page_size = 1;
  } else if (s.paginator.kind == paginator_kind::keyset) {
    pager.map_of({"kind", "after_param", "after_from", "page_size", "pages_per_batch", "has_more",
                  "max_pages"});
    s.paginator.after_param = pager.str("after_param");
    if (s.paginator.after_param.empty())
      pager.child("after_param").fail("must name the body member or query parameter");
    s.paginator.after_from = read_path(pager.child("after_from"));
    const auto size = pager.integer("page_size");
    if (size < 1 || size > 10'000)
      pager.child("page_size").fail("must be 1..10000 (the upstream's limit, sent with each page)");
    s.paginator.page_size = static_cast<int>(size);
    read_pages_per_batch();
  } else if (s.paginator.kind == paginator_kind::offset) {
    pager.map_of(
        {"kind", "page_size", "total_records", "pages_per_batch", "has_more", "max_pages"});
    const auto size = pager.integer("page_size");
    if (size < 1 || size > 10'000)
      pager.child("page_size").fail("must be 1..10000 (the {limit} of each request)");
    s.paginator.page_size = static_cast<int>(size);
    s.paginator.total_records = pager.str_or("total_records", "");
    for (const auto* chain_only : {"pages_per_batch", "has_more", "max_pages"}) {
      if (pager.has("total_records") && pager.has(chain_only))
        pager.child(chain_only)
            .fail("is for a chain; with total_records every page is planned up front");
    }
    read_pages_per_batch();
  } else if (s.paginator.kind == paginator_kind::next_link) {
    pager.map_of({"kind", "next", "pages_per_batch", "has_more", "max_pages"});
    s.paginator.next = read_path(pager.child("next"));
    if (s.method != "GET")
      pager.child("kind").fail("a next link is followed with GET; this source's method is " +
                               s.method);
    read_pages_per_batch();
  } else {
    pager.map_of({"kind", "page_param", "first_page", "total_pages", "pages_param", "page_size"});
    s.paginator.page_param = pager.str_or("page_param", "page");
    s.paginator.first_page = static_cast<int>(pager.integer_or("first_page", 1));
    if (pager.has("pages_param") == pager.has("total_pages"))
      pager.fail(
          "needs one of total_pages (where an answer says the page count) and "
          "pages_param (an int parameter that sets it)");
    if (pager.has("pages_param")) {
      s.paginator.pages_param = pager.str("pages_param");
      if (!param_names.contains(s.paginator.pages_param))
        pager.child("pages_param")
            .fail("'" + s.paginator.pages_param + "' is not a parameter of this pipeline");
    } else {
      s.paginator.total_pages = pager.str("total_pages");
    }
    const auto size = pager.integer("page_size");
    if (size < 1 || size > 10'000)
      pager.child("page_size").fail("must be 1..10000");
    s.paginator.page_size = static_cast<int>(size);
  }

  std::set<std::string> request_names{"page"};
  if (s.paginator.kind == paginator_kind::offset) {
    request_names.insert("offset");
    request_names.insert("limit");
  }
  for (const auto& p : param_names)
    request_names.insert("params." + p);
  if (windowed) {
    request_names.insert("window.start");
    request_names.insert("window.end");
  }
  if (incremental)
    request_names.insert("cursor.start");
  if (n.has("body")) {
    if (s.method != "POST")
      n.child("body").fail("a body is for method POST");
    s.body = yaml_to_json(n.child("body"), request_names);
  }
  s.path = n.str("path");
  check_placeholders(n.child("path"), s.path, request_names);
  if (n.has("query")) {
    for (const auto& [name, value] : n.child("query").entries()) {
      s.query.emplace_back(name, value.scalar());
      check_placeholders(value, s.query.back().second, request_names);
    }
  }
  if (s.paginator.kind == paginator_kind::keyset) {
    // The key goes where the request carries its other values: the body of a POST (a member
    // the spec's body must leave to it), the query of a GET.
    const bool taken = s.method == "POST"
                           ? s.body && s.body->is_object() &&
                                 s.body->get_object().contains(s.paginator.after_param)
                           : std::any_of(s.query.begin(), s.query.end(), [&](const auto& q) {
                               return q.first == s.paginator.after_param;
                             });
    if (taken)
      pager.child("after_param")
          .fail("'" + s.paginator.after_param + "' is set by the request already");
    if (s.method == "POST" && s.body && !s.body->is_object())
      n.child("body").fail("must be an object: the keyset paginator adds its key to it");
  }
  if (s.paginator.kind == paginator_kind::offset) {
    const auto mentions = [](const std::string& text) {
      return text.find("{offset}") != std::string::npos;
    };
    const bool sent = mentions(s.path) ||
                      std::any_of(s.query.begin(), s.query.end(),
                                  [&](const auto& q) { return mentions(q.second); }) ||
                      (s.body && mentions(boost::json::serialize(*s.body)));
    if (!sent)
      pager.child("kind").fail(
          "an offset paginator needs {offset} in the request's path, query or body");
  }
  if (s.auth && !s.auth->query.empty()) {
    for (const auto& [name, value] : s.query) {
      if (name == s.auth->query)
        n.child("auth").child("query").fail("'" + name + "' is also a key of source.query");
    }
  }
  if (n.has("detail")) {
    const auto d = n.child("detail");
    d.map_of({"path", "hedged", "bad_record_status"});
    detail_spec detail;
    detail.path = d.str("path");
    check_placeholders(d.child("path"), detail.path, {"record." + s.key});
    detail.hedged = d.boolean_or("hedged", true);
    const auto bad = d.integer_or("bad_record_status", 0);
    if (bad != 0 && (bad < 400 || bad > 599))
      d.child("bad_record_status").fail("must be an HTTP error status (400..599)");
    detail.bad_record_status = static_cast<unsigned>(bad);
    s.detail = std::move(detail);
  }
  return s;
}

// "a.b.c" as its keys; each must be non-empty.
std::vector<std::string> read_path(const spec_node& n) {
  const auto text = n.scalar();
  std::vector<std::string> keys;
  std::size_t start = 0;
  for (;;) {
    const auto dot = text.find('.', start);
    keys.push_back(text.substr(start, dot == std::string::npos ? dot : dot - start));
    if (keys.back().empty())
      n.fail("'" + text + "' has an empty key (write a.b.c)");
    if (dot == std::string::npos)
      return keys;
    start = dot + 1;
  }
}

field_spec read_field(const std::string& name, const spec_node& n) {
  n.map_of({"type", "from", "nullable", "min", "separator", "values", "pattern", "derive", "of",
            "accept_text", "pick"});
  field_spec f;
  f.name = name;
  f.from = n.has("from") ? read_path(n.child("from")) : std::vector<std::string>{name};
  f.type = n.choice<field_type>("type", {{"int", field_type::integer},
                                         {"number", field_type::number},
                                         {"string", field_type::string},
                                         {"bool", field_type::boolean},
                                         {"epoch_ms", field_type::epoch_ms},
                                         {"string_list", field_type::string_list},
                                         {"date_time", field_type::date_time},
                                         {"date", field_type::date},
                                         {"string_array", field_type::string_array},
                                         {"string_or_number", field_type::string_or_number}});
  f.nullable = n.boolean_or("nullable", false);
  if (n.has("accept_text")) {
    if (f.type != field_type::number)
      n.child("accept_text").fail("accept_text is for number fields");
    f.accept_text = n.boolean("accept_text");
  }
  if (n.has("derive")) {
    f.derive = n.choice<field_derive>("derive", {{"utc_date", field_derive::utc_date},
                                                 {"stable_key", field_derive::stable_key},
                                                 {"secret_hash", field_derive::secret_hash}});
    if (f.derive == field_derive::utc_date && f.type != field_type::date)
      n.child("derive").fail("utc_date makes a date: the field's type must be date");
    if (f.derive != field_derive::utc_date && f.type != field_type::string)
      n.child("derive").fail("a hash is hex text: the field's type must be string");
  }
  if (f.derive == field_derive::stable_key) {
    if (n.has("from"))
      n.child("from").fail("a stable_key hashes the paths listed in `of`, not `from`");
    for (const auto& item : n.child("of").items())
      f.key_of.push_back(read_path(item));
    if (f.key_of.empty())
      n.child("of").fail("must list at least one path");
  } else if (n.has("of")) {
    n.child("of").fail("`of` is for derive: stable_key");
  }
  if (n.has("pick")) {
    // pick: {where: {location_type: city}, value: value}
    const auto pick = n.child("pick");
    pick.map_of({"where", "value"});
    if (f.derive != field_derive::none)
      pick.fail("a field either picks from an array or is derived, not both");
    const auto where = pick.child("where").entries();
    if (where.size() != 1)
      pick.child("where").fail("must hold one key: the entry's field and the text it must hold");
    f.pick = pick_spec{where.front().first, where.front().second.scalar(),
                       read_path(pick.child("value"))};
  }
  if (n.has("min")) {
    if (f.type != field_type::integer)
      n.child("min").fail("min is for int fields");
    f.min = n.integer("min");
  }
  if (n.has("values")) {
    if (f.type != field_type::string)
      n.child("values").fail("values are for string fields");
    for (const auto& v : n.child("values").items())
      f.values.push_back(v.scalar());
    if (f.values.empty())
      n.child("values").fail("must list at least one value");
  }
  if (n.has("pattern")) {
    if (f.type != field_type::string)
      n.child("pattern").fail("pattern is for string fields");
    f.pattern = n.str("pattern");
    try {
      std::regex check(f.pattern);
    } catch (const std::regex_error& e) {
      n.child("pattern").fail(std::string("not a regular expression: ") + e.what());
    }
  }
  if (n.has("separator")) {
    if (f.type != field_type::string_list)
      n.child("separator").fail("separator is for string_list fields");
    f.separator = n.str("separator");
    if (f.separator.empty())
      n.child("separator").fail("must not be empty");
  }
  return f;
}

// The fields a sink takes, and where the spec declares them (for errors).
struct sink_fields {
  std::span<const field_spec> fields;
  std::string declared;  // "transform.fields" or "transform.children.NAME"

  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& f : fields)
      out.insert(f.name);
    return out;
  }
  const field_spec* find(const std::string& name) const {
    for (const auto& f : fields) {
      if (f.name == name)
        return &f;
    }
    return nullptr;
  }
  std::vector<std::string> all() const {
    std::vector<std::string> out;
    for (const auto& f : fields)
      out.push_back(f.name);
    return out;
  }
};

// A list of field names, each one of `fields`, none twice.
std::vector<std::string> read_field_list(const spec_node& n, const sink_fields& fields) {
  const auto known = fields.names();
  std::vector<std::string> out;
  for (const auto& item : n.items()) {
    auto name = item.scalar();
    if (!known.contains(name))
      item.fail("'" + name + "' is not one of " + fields.declared);
    if (std::find(out.begin(), out.end(), name) != out.end())
      item.fail("'" + name + "' is listed twice");
    out.push_back(std::move(name));
  }
  if (out.empty())
    n.fail("must list at least one field");
  return out;
}

// A sink's key: fields that are never null.
std::vector<std::string> read_key(const spec_node& n, const sink_fields& fields) {
  auto key = read_field_list(n, fields);
  for (const auto& k : key) {
    if (fields.find(k)->nullable)
      n.fail("'" + k + "' is nullable: a key needs a value");
  }
  return key;
}

// A sink's `columns` (every field when absent), holding the whole `key`.
std::vector<std::string> read_columns(const spec_node& n, const sink_fields& fields,
                                      const std::vector<std::string>& key) {
  if (!n.has("columns"))
    return fields.all();
  auto columns = read_field_list(n.child("columns"), fields);
  for (const auto& k : key) {
    if (std::find(columns.begin(), columns.end(), k) == columns.end())
      n.child("columns").fail("must include the key field '" + k + "'");
  }
  return columns;
}

sink_spec read_postgres_sink(const spec_node& n, sink_spec s, const sink_fields& fields) {
  n.map_of({"kind", "from", "table", "key", "columns"});
  if (s.input == sink_input::pages)
    n.child("from").fail("pages (the answers as received) go to a files sink only");
  const auto table = n.child("table");
  s.table = table.scalar();
  const auto dot = s.table.find('.');
  if (dot == std::string::npos || !is_snake_case(s.table.substr(0, dot)) ||
      !is_snake_case(s.table.substr(dot + 1)))
    table.fail("'" + s.table + "' is not schema.table, both snake_case");
  s.key = read_key(n.child("key"), fields);
  s.columns = read_columns(n, fields, s.key);
  return s;
}

// A files sink's `file_name`: placeholders of the task and batch, names of [A-Za-z0-9_.=-] and
// {...} between '/' ('=' for Hive-style folders such as `_extraction_date={task.day}`), no '.'
// or '..' part.
std::string read_file_name(const spec_node& n) {
  auto name = n.scalar();
  check_placeholders(n, name, {"task.id", "task.date", "task.day", "batch"});
  std::filesystem::path p(name);
  if (p.is_absolute() || name.empty() || name.back() == '/')
    n.fail("must be a relative name (folders allowed), not ending in '/'");
  for (const auto& part : p) {
    const auto text = part.string();
    if (text == "." || text == ".." || text.empty())
      n.fail("must not contain '.' or '..' parts");
    if (text.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.=-{}") != std::string::npos)
      n.fail("'" + text + "' holds a character outside [A-Za-z0-9_.=-] and placeholders");
  }
  return name;
}

sink_spec read_files_sink(const spec_node& n, sink_spec s, const sink_fields& fields) {
  s.format = n.choice<file_format>("format", {{"csv", file_format::csv},
                                              {"jsonl", file_format::jsonl},
                                              {"parquet", file_format::parquet}});
  if (n.has("file_name"))
    s.file_name = read_file_name(n.child("file_name"));
  if (s.input == sink_input::pages) {
    // The answers as received: no fields to pick, key or partition by.
    n.map_of({"kind", "from", "format", "folder", "file_name"});
    if (s.format != file_format::jsonl)
      n.child("format").fail("pages are written as jsonl, one answer per line");
  } else {
    n.map_of({"kind", "from", "format", "folder", "file_name", "partition_by", "key", "columns",
              "compression"});
    if (n.has("key"))
      s.key = read_key(n.child("key"), fields);
    s.columns = read_columns(n, fields, s.key);
  }
  if (n.has("compression")) {
    if (s.format != file_format::parquet)
      n.child("compression").fail("compression is for parquet files");
    s.compression = n.choice<file_compression>("compression", {{"none", file_compression::none},
                                                               {"snappy", file_compression::snappy},
                                                               {"zstd", file_compression::zstd}});
  }
  const auto folder = n.child("folder");
  s.folder = folder.scalar();
  // Relative, and no way out of the output root.
  std::filesystem::path p(s.folder);
  if (p.is_absolute() || s.folder.empty())
    folder.fail("must be a relative folder under ETL_OUTPUT_DIR");
  for (const auto& part : p) {
    if (part == ".." || part == ".")
      folder.fail("must not contain '.' or '..'");
    if (part.string().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_=-") !=
        std::string::npos)
      folder.fail("'" + part.string() + "' is not a folder name of [a-z0-9_=-]");
  }
  if (n.has("partition_by")) {
    const auto by = n.child("partition_by");
    s.partition_by = by.scalar();
    const auto* it = fields.find(s.partition_by);
    if (it == nullptr)
      by.fail("'" + s.partition_by + "' is not one of " + fields.declared);
    if (it->nullable)
      by.fail("'" + s.partition_by + "' is nullable: a partition needs a value");
  }
  return s;
}

sink_spec read_sink(const spec_node& n, const pipeline_spec& spec) {
  sink_spec s;
  s.kind = n.choice<sink_kind>("kind", {{"http_batch", sink_kind::http_batch},
                                        {"postgres", sink_kind::postgres},
                                        {"files", sink_kind::files}});
  sink_fields fields{spec.fields, "transform.fields"};
  if (n.has("from")) {
    const auto from = n.child("from");
    const auto input = from.scalar();
    if (input == "pages") {
      s.input = sink_input::pages;
      fields = {};
    } else if (input != "records") {
      const auto it = std::find_if(spec.children.begin(), spec.children.end(),
                                   [&](const child_spec& c) { return c.name == input; });
      if (it == spec.children.end())
        from.fail("'" + input + "' is not records, pages or one of transform.children");
      s.input = sink_input::child;
      s.child = input;
      fields = {it->fields, "transform.children." + input};
    }
  }
  if (s.kind == sink_kind::postgres)
    return read_postgres_sink(n, std::move(s), fields);
  if (s.kind == sink_kind::files)
    return read_files_sink(n, std::move(s), fields);
  n.map_of({"kind", "url", "max_records"});
  s.url = read_env_value(n.child("url"));
  if (n.child("url").has("default"))
    check_placeholders(n.child("url").child("default"), s.url.value, {"source.base_url"});
  const auto max = n.integer("max_records");
  if (max < 1 || max > 100'000)
    n.child("max_records").fail("must be 1..100000");
  s.max_records = static_cast<int>(max);
  return s;
}

std::vector<pipeline_migration> read_migrations(const spec_node& n) {
  std::vector<pipeline_migration> out;
  for (const auto& item : n.items()) {
    item.map_of({"version", "name", "sql"});
    pipeline_migration m;
    const auto v = item.integer("version");
    if (v < 1 || v > 9999)
      item.child("version").fail("must be 1..9999");
    m.version = static_cast<int>(v);
    if (!out.empty() && m.version <= out.back().version)
      item.child("version").fail("must be above the previous migration's " +
                                 std::to_string(out.back().version));
    m.name = snake_name(item.child("name"));
    m.sql = item.str("sql");
    out.push_back(std::move(m));
  }
  return out;
}

// The fields of a map, after `before` (a child table's copied fields), none named twice.
std::vector<field_spec> read_fields(const spec_node& n, std::vector<field_spec> before) {
  for (const auto& [key, value] : n.entries()) {
    if (!is_snake_case(key))
      value.fail("'" + key + "' is not a snake_case name");
    if (std::any_of(before.begin(), before.end(),
                    [&](const field_spec& f) { return f.name == key; }))
      value.fail("'" + key + "' is a field of this table already");
    before.push_back(read_field(key, value));
  }
  return before;
}

child_spec read_child(const std::string& name, const spec_node& n,
                      const std::vector<field_spec>& parent) {
  n.map_of({"from", "parent", "index", "skip_null", "fields"});
  if (!is_snake_case(name))
    n.fail("'" + name + "' is not a snake_case name");
  if (name == "records" || name == "pages")
    n.fail("'" + name + "' is what a sink's `from` says of the records or pages: pick another");
  child_spec c;
  c.name = name;
  c.from = read_path(n.child("from"));
  std::vector<field_spec> fields;
  if (n.has("parent")) {
    for (const auto& item : n.child("parent").items()) {
      auto field = item.scalar();
      const auto it = std::find_if(parent.begin(), parent.end(),
                                   [&](const field_spec& f) { return f.name == field; });
      if (it == parent.end())
        item.fail("'" + field + "' is not one of transform.fields");
      if (std::any_of(fields.begin(), fields.end(),
                      [&](const field_spec& f) { return f.name == field; }))
        item.fail("'" + field + "' is listed twice");
      c.parent_fields.push_back(field);
      fields.push_back(*it);
    }
  }
  if (n.has("index")) {
    c.index = snake_name(n.child("index"));
    if (std::any_of(fields.begin(), fields.end(),
                    [&](const field_spec& f) { return f.name == c.index; }))
      n.child("index").fail("'" + c.index + "' is a parent field already");
    field_spec index;
    index.name = c.index;
    index.type = field_type::integer;
    fields.push_back(std::move(index));
  }
  const auto copied = fields.size();
  c.fields = read_fields(n.child("fields"), std::move(fields));
  if (c.fields.size() == copied)
    n.child("fields").fail("must declare at least one field of the array's entries");
  if (n.has("skip_null")) {
    const auto skip = n.child("skip_null");
    c.skip_null = skip.scalar();
    const auto it =
        std::find_if(c.fields.begin() + static_cast<std::ptrdiff_t>(copied), c.fields.end(),
                     [&](const field_spec& f) { return f.name == c.skip_null; });
    if (it == c.fields.end())
      skip.fail("'" + c.skip_null + "' is not one of this child's own fields");
  }
  return c;
}

check_spec read_check(const spec_node& n, const std::vector<field_spec>& fields) {
  n.map_of({"kind", "field", "min", "max", "blocking"});
  check_spec c;
  c.kind = n.choice<check_kind>("kind", {{"not_null", check_kind::not_null},
                                         {"unique", check_kind::unique},
                                         {"range", check_kind::range}});
  c.field = n.str("field");
  const auto f = std::find_if(fields.begin(), fields.end(),
                              [&](const field_spec& x) { return x.name == c.field; });
  if (f == fields.end())
    n.child("field").fail("'" + c.field + "' is not one of transform.fields");
  auto number = [&](const char* key) {
    const auto text = n.str(key);
    try {
      std::size_t used = 0;
      const double d = std::stod(text, &used);
      if (used == text.size())
        return d;
    } catch (const std::exception&) {
    }
    n.child(key).fail("must be a number, not '" + text + "'");
  };
  if (c.kind == check_kind::range) {
    if (f->type != field_type::integer && f->type != field_type::number)
      n.child("field").fail("a range is for int and number fields");
    if (n.has("min"))
      c.min = number("min");
    if (n.has("max"))
      c.max = number("max");
    if (!c.min && !c.max)
      n.fail("a range needs min, max or both");
  } else if (n.has("min") || n.has("max")) {
    n.fail("min and max are for range checks");
  }
  c.blocking = n.boolean_or("blocking", true);
  return c;
}

schedule_spec read_schedule(const spec_node& n) {
  n.map_of({"cron", "catch_up"});
  auto cron = parse_cron(n.str("cron"));
  if (!cron)
    n.child("cron").fail(cron.error());
  // A scheduled task runs with the parameters' defaults; one without a default stays unset.
  return {std::move(*cron), n.boolean_or("catch_up", false)};
}

secrets_spec read_secrets(const spec_node& n) {
  n.map_of({"salt_env", "iterations"});
  secrets_spec s;
  s.salt_env = env_name(n.child("salt_env"));
  const auto rounds = n.integer_or("iterations", s.iterations);
  if (rounds < 1'000 || rounds > 10'000'000)
    n.child("iterations").fail("must be 1000..10000000");
  s.iterations = static_cast<int>(rounds);
  return s;
}

// Every secret_hash field (children's too) needs the spec's secrets.
void check_derived(const spec_node& transform, const pipeline_spec& spec) {
  auto check = [&](const std::vector<field_spec>& fields, const std::string& where) {
    for (const auto& f : fields) {
      if (f.derive == field_derive::secret_hash && !spec.secrets)
        transform.fail(where + "." + f.name +
                       " is a secret_hash: the spec needs secrets: {salt_env: NAME}");
    }
  };
  check(spec.fields, "fields");
  for (const auto& c : spec.children)
    check(c.fields, "children." + c.name + ".fields");
}

const field_spec* find_field(const std::vector<field_spec>& fields, std::string_view name) {
  const auto it = std::find_if(fields.begin(), fields.end(),
                               [&](const field_spec& f) { return f.name == name; });
  return it == fields.end() ? nullptr : &*it;
}

incremental_spec read_incremental(const spec_node& n, const pipeline_spec& spec) {
  n.map_of({"field", "start_param", "initial"});
  incremental_spec inc;
  inc.field = n.str("field");
  inc.initial = n.str("initial");
  if (!is_date(inc.initial) && !is_date_time(inc.initial))
    n.child("initial").fail("'" + inc.initial + "' is not a date or an ISO 8601 date-time");
  if (n.has("start_param")) {
    inc.start_param = n.str("start_param");
    const auto* p = spec.param(inc.start_param);
    if (p == nullptr || p->type != param_type::date)
      n.child("start_param")
          .fail("'" + inc.start_param + "' is not a date parameter of this pipeline");
    if (p->default_value)
      n.child("start_param")
          .fail("'" + inc.start_param + "' must have no default: without it a task is incremental");
  }
  return inc;
}

window_spec read_windows(const spec_node& n, const pipeline_spec& spec) {
  n.map_of({"start", "end"});
  window_spec w{n.str("start"), n.str("end")};
  for (const char* key : {"start", "end"}) {
    const auto name = n.str(key);
    const auto* p = spec.param(name);
    if (p == nullptr || p->type != param_type::date)
      n.child(key).fail("'" + name + "' is not a date parameter of this pipeline");
    if (!p->default_value)
      n.child(key).fail("'" + name + "' needs a default: every task has a window");
  }
  if (w.start_param == w.end_param)
    n.child("end").fail("must be another parameter than start");
  return w;
}

pipeline_spec read_spec(const spec_node& root) {
  root.map_of({"name", "description", "parameters", "windows", "incremental", "secrets", "schedule",
               "source", "transform", "checks", "sinks", "migrations"});
  pipeline_spec spec;
  const auto name = root.child("name");
  spec.name = name.scalar();
  if (!is_pipeline_name(spec.name))
    name.fail("'" + spec.name + "' is not a pipeline name ([a-z][a-z0-9-]*, at most 63 bytes)");
  spec.description = root.str_or("description", "");

  std::set<std::string> param_names;
  if (root.has("parameters")) {
    for (const auto& [key, value] : root.child("parameters").entries()) {
      if (!is_snake_case(key))
        value.fail("'" + key + "' is not a snake_case name");
      spec.params.push_back(read_param(key, value));
      param_names.insert(key);
    }
  }
  if (root.has("windows"))
    spec.windows = read_windows(root.child("windows"), spec);
  if (root.has("secrets"))
    spec.secrets = read_secrets(root.child("secrets"));
  if (root.has("schedule"))
    spec.schedule = read_schedule(root.child("schedule"));
  if (root.has("incremental"))
    spec.incremental = read_incremental(root.child("incremental"), spec);
  spec.source = read_source(root.child("source"), param_names, spec.windows.has_value(),
                            spec.incremental.has_value());

  const auto transform = root.child("transform");
  transform.map_of({"fields", "children"});
  spec.fields = read_fields(transform.child("fields"), {});
  if (std::none_of(spec.fields.begin(), spec.fields.end(),
                   [&](const field_spec& f) { return f.name == spec.source.key; }))
    root.child("source").child("key").fail("'" + spec.source.key +
                                           "' is not one of transform.fields");
  if (transform.has("children")) {
    for (const auto& [child, value] : transform.child("children").entries())
      spec.children.push_back(read_child(child, value, spec.fields));
  }
  check_derived(transform, spec);
  if (spec.incremental) {
    const auto* f = find_field(spec.fields, spec.incremental->field);
    if (f == nullptr || f->type != field_type::date_time || f->nullable)
      root.child("incremental")
          .child("field")
          .fail("'" + spec.incremental->field +
                "' must be a date_time field of transform.fields, not nullable");
    if (spec.source.paginator.kind != paginator_kind::keyset)
      root.child("incremental").fail("needs a source with a keyset paginator");
  }
  if (spec.source.paginator.chained() && spec.windows)
    root.child("windows").fail(
        "a source whose pages chain (keyset, next_link, offset without total_records) reads "
        "them in one chain, not in day windows");
  if (!spec.source.paginator.pages_param.empty()) {
    const auto* p = spec.param(spec.source.paginator.pages_param);
    if (p->type != param_type::integer || !p->default_value || !p->min || *p->min < 1)
      root.child("source")
          .child("paginator")
          .child("pages_param")
          .fail("'" + p->name + "' must be an int parameter with a default and a min of 1 or more");
  }

  if (root.has("checks")) {
    for (const auto& item : root.child("checks").items())
      spec.checks.push_back(read_check(item, spec.fields));
  }
  const auto sinks = root.child("sinks").items();
  if (sinks.empty())
    root.child("sinks").fail("needs at least one sink");
  for (const auto& s : sinks)
    spec.sinks.push_back(read_sink(s, spec));
  const bool http = std::any_of(spec.sinks.begin(), spec.sinks.end(),
                                [](const sink_spec& s) { return s.kind == sink_kind::http_batch; });
  if (http && spec.sinks.size() > 1)
    root.child("sinks").fail("an http_batch sink is a pipeline's only sink");
  // The http_batch path reads through the worker's own animals client (ETL_SOURCE_URL).
  for (const char* key : {"auth", "rate_limit", "quota_reset_seconds"}) {
    if (http && root.child("source").has(key))
      root.child("source").child(key).fail("not supported with an http_batch sink");
  }
  if (root.has("migrations"))
    spec.migrations = read_migrations(root.child("migrations"));
  return spec;
}

}  // namespace

spec_result parse_pipeline_spec(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return spec_error{file, e.mark.line + 1, e.mark.column + 1, "", "not valid YAML: " + e.msg};
  }
  try {
    pipeline_spec spec;
    spec = read_spec(spec_node(root, "", file));
    spec.file = file;
    return spec;
  } catch (const spec_failure& f) {
    return f.error;
  } catch (const YAML::Exception& e) {
    return spec_error{file, e.mark.line + 1, e.mark.column + 1, "", e.msg};
  }
}

spec_result load_pipeline_spec(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in)
    return spec_error{path.string(), 0, 0, "", "cannot read the file"};
  return parse_pipeline_spec(text.str(), path.string());
}

namespace {

// Adds `spec` to `out` unless another spec there has its name.
std::optional<spec_error> add_unique(std::vector<pipeline_spec>& out, pipeline_spec spec) {
  for (const auto& other : out) {
    if (other.name == spec.name)
      return spec_error{spec.file, 0, 0, "name",
                        "'" + spec.name + "' is also the name of " + other.file};
  }
  out.push_back(std::move(spec));
  return std::nullopt;
}

// Appends the specs of `dirs` to `out`.
std::optional<spec_error> add_specs_in(std::vector<pipeline_spec>& out,
                                       const std::vector<std::filesystem::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const auto ext = it->path().extension();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json")
        files.push_back(it->path());
    }
    if (ec)
      return spec_error{dir.string(), 0, 0, "", "cannot read the folder: " + ec.message()};
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto spec = load_pipeline_spec(f);
      if (!spec)
        return spec.error();
      if (auto e = add_unique(out, std::move(*spec)))
        return e;
    }
  }
  return std::nullopt;
}

}  // namespace

specs_result load_pipeline_specs(const std::vector<std::filesystem::path>& dirs) {
  std::vector<pipeline_spec> out;
  if (auto e = add_specs_in(out, dirs))
    return *e;
  return out;
}

specs_result load_pipelines(const std::vector<std::filesystem::path>& user_dirs) {
  std::vector<pipeline_spec> out;
  for (const auto& shipped : shipped_pipeline_specs()) {
    auto spec = parse_pipeline_spec(shipped.text, std::string(shipped.file));
    if (!spec)
      return spec.error();
    if (auto e = add_unique(out, std::move(*spec)))
      return *e;
  }
  if (auto e = add_specs_in(out, user_dirs))
    return *e;
  return out;
}

specs_result load_pipelines_at_start(const std::string& user_dir) {
  std::vector<std::filesystem::path> dirs;
  if (!user_dir.empty())
    dirs.emplace_back(user_dir);
  auto loaded = load_pipelines(dirs);
  if (!loaded) {
    spdlog::critical("pipeline spec refused: {}", loaded.error().describe());
    return loaded;
  }
  std::string names;
  for (const auto& p : *loaded)
    names += (names.empty() ? "" : ", ") + p.name + " (" + p.file + ")";
  spdlog::info("pipelines: {}", names);
  return loaded;
}

}  // namespace etl
