#include "etl/sim/crunchbase.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/core/error.hpp"

namespace etl {
namespace {

namespace bj = boost::json;
using std::chrono::sys_seconds;

constexpr std::string_view search_path = "/api/v4/searches/organizations";
constexpr std::string_view autocomplete_path = "/api/v4/autocompletes";
constexpr std::int64_t autocomplete_default_limit = 10;
constexpr std::int64_t autocomplete_max_limit = 25;
constexpr std::int64_t default_limit = 50;
constexpr std::int64_t max_limit = 1000;

enum class field_type {
  identifier,
  identifier_multi,
  string,
  link,
  enumeration,
  date_time,
  integer
};

struct field_info {
  field_type type;
  bool basic;  // a Basic key may read it
};

const std::map<std::string, field_info, std::less<>>& fields() {
  static const std::map<std::string, field_info, std::less<>> table = {
      {"identifier", {field_type::identifier, true}},
      {"uuid", {field_type::identifier, true}},
      {"name", {field_type::string, true}},
      {"permalink", {field_type::string, true}},
      {"short_description", {field_type::string, true}},
      {"website_url", {field_type::string, true}},
      {"website", {field_type::link, true}},
      {"linkedin", {field_type::link, true}},
      {"facebook", {field_type::link, false}},
      {"twitter", {field_type::link, false}},
      {"company_type", {field_type::enumeration, false}},
      {"created_at", {field_type::date_time, true}},
      {"updated_at", {field_type::date_time, true}},
      {"location_identifiers", {field_type::identifier_multi, true}},
      {"categories", {field_type::identifier_multi, false}},
      {"rank_org", {field_type::integer, true}},
      {"rank_org_company", {field_type::integer, false}},
  };
  return table;
}

// The operators each field type accepts. Date-times take no gt or lt: the documentation lists
// them, the API refuses them.
bool allowed(field_type type, std::string_view op) {
  const auto in = [&](std::initializer_list<std::string_view> ops) {
    return std::find(ops.begin(), ops.end(), op) != ops.end();
  };
  switch (type) {
    case field_type::date_time:
      return in({"eq", "blank", "gte", "lte"});
    case field_type::enumeration:
      return in({"eq", "not_eq", "blank", "includes", "not_includes"});
    case field_type::identifier:
    case field_type::identifier_multi:
      return in({"eq", "not_eq", "blank", "includes", "not_includes", "starts", "contains"});
    case field_type::string:
      return in({"eq", "not_eq", "blank", "contains", "starts"});
    case field_type::link:
      return in({"eq", "blank", "contains"});
    case field_type::integer:
      return in({"eq", "not_eq", "gt", "gte", "lt", "lte", "between", "blank"});
  }
  return false;
}

struct problem {
  unsigned status;
  std::string code;
  std::string message;
};

sim_reply error_reply(const std::vector<problem>& problems) {
  bj::array list;
  unsigned status = 403;
  for (const auto& p : problems) {
    list.push_back({{"code", p.code}, {"message", p.message}});
    status = p.status == 403 ? status : p.status;  // any other problem decides the status
  }
  sim_reply reply;
  reply.status = status;
  reply.body = bj::serialize(list);
  return reply;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

// "2023-12-31" (a whole day) or "2023-12-31T10:00:00Z"; unset otherwise.
struct date_value {
  sys_seconds at;
  bool day = false;
};
std::optional<date_value> parse_date(const bj::value& v) {
  if (!v.is_string()) {
    return std::nullopt;
  }
  const std::string s(v.as_string());
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  int se = 0;
  char tail = 0;
  if (s.size() == 10 && std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &mo, &d) == 3) {
    const std::chrono::year_month_day ymd{std::chrono::year{y} / mo / d};
    if (!ymd.ok()) {
      return std::nullopt;
    }
    return date_value{std::chrono::sys_days{ymd}, true};
  }
  if (std::sscanf(s.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &tail) == 7 &&
      (tail == 'Z' || tail == '.')) {
    const std::chrono::year_month_day ymd{std::chrono::year{y} / mo / d};
    if (!ymd.ok()) {
      return std::nullopt;
    }
    return date_value{std::chrono::sys_days{ymd} + std::chrono::hours{h} +
                      std::chrono::minutes{mi} + std::chrono::seconds{se}};
  }
  return std::nullopt;
}

struct predicate {
  std::string field;
  field_type type;
  std::string op;
  bj::array values;
};

// The texts an identifier property matches: uuid and permalink of each entity.
std::vector<std::string> identifier_texts(const bj::value& v) {
  std::vector<std::string> out;
  const auto add = [&](const bj::value& e) {
    if (const auto* o = e.if_object()) {
      for (std::string_view key : {"uuid", "permalink", "value"}) {
        if (const auto* t = o->if_contains(key); t && t->is_string()) {
          out.push_back(lower(t->as_string()));
        }
      }
    } else if (e.is_string()) {
      out.push_back(lower(e.as_string()));
    }
  };
  if (const auto* list = v.if_array()) {
    for (const auto& e : *list) {
      add(e);
    }
  } else {
    add(v);
  }
  return out;
}

bool matches(const crunchbase_org& org, const predicate& p) {
  const bj::value* v = org.properties.if_contains(p.field);
  if (p.op == "blank") {
    return v == nullptr;
  }
  if (v == nullptr) {
    return false;
  }
  switch (p.type) {
    case field_type::date_time: {
      const auto have = parse_date(*v)->at;
      const auto want = *parse_date(p.values.front());
      if (p.op == "gte") {
        return have >= want.at;
      }
      if (p.op == "lte") {
        return want.day ? have < want.at + std::chrono::days{1} : have <= want.at;
      }
      return want.day ? std::chrono::floor<std::chrono::days>(have) == want.at : have == want.at;
    }
    case field_type::integer: {
      const auto have = v->as_int64();
      const auto n = [&](std::size_t i) { return p.values.at(i).to_number<std::int64_t>(); };
      if (p.op == "eq") {
        return have == n(0);
      }
      if (p.op == "not_eq") {
        return have != n(0);
      }
      if (p.op == "between") {
        return have >= n(0) && have <= n(1);
      }
      return p.op == "gt"    ? have > n(0)
             : p.op == "gte" ? have >= n(0)
             : p.op == "lt"  ? have < n(0)
                             : have <= n(0);
    }
    default: {
      std::vector<std::string> have;
      if (p.type == field_type::identifier || p.type == field_type::identifier_multi) {
        have = identifier_texts(*v);
      } else if (const auto* o = v->if_object()) {
        have.push_back(lower(o->at("value").as_string()));
      } else {
        have.push_back(lower(v->as_string()));
      }
      const auto any = [&](auto test) {
        for (const auto& want : p.values) {
          const auto w = lower(want.as_string());
          for (const auto& h : have) {
            if (test(h, w)) {
              return true;
            }
          }
        }
        return false;
      };
      const auto equal = [](const std::string& h, const std::string& w) { return h == w; };
      if (p.op == "eq" || p.op == "includes") {
        return any(equal);
      }
      if (p.op == "not_eq" || p.op == "not_includes") {
        return !any(equal);
      }
      if (p.op == "starts") {
        return any([](const std::string& h, const std::string& w) { return h.starts_with(w); });
      }
      return any([](const std::string& h, const std::string& w) {
        return h.find(w) != std::string::npos;
      });
    }
  }
}

// A property's sort value: its text (an entity's name, a link's url) or number.
std::optional<bj::value> sort_value(const crunchbase_org& org, const std::string& field) {
  const auto* v = org.properties.if_contains(field);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (const auto* o = v->if_object()) {
    return o->contains("value") ? o->at("value") : o->at("uuid");
  }
  return *v;
}

struct order_key {
  std::string field;
  bool descending = false;
  bool nulls_first = false;
};

int compare(const crunchbase_org& a, const crunchbase_org& b, const std::vector<order_key>& keys) {
  for (const auto& k : keys) {
    const auto x = sort_value(a, k.field);
    const auto y = sort_value(b, k.field);
    if (!x || !y) {
      if (x.has_value() != y.has_value()) {
        return (!x == k.nulls_first) ? -1 : 1;
      }
      continue;
    }
    int c = 0;
    if (x->is_int64() && y->is_int64()) {
      c = x->as_int64() < y->as_int64() ? -1 : x->as_int64() > y->as_int64() ? 1 : 0;
    } else if (x->is_string() && y->is_string()) {
      const auto r = std::string_view(x->as_string()).compare(std::string_view(y->as_string()));
      c = r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    if (c != 0) {
      return k.descending ? -c : c;
    }
  }
  // The uuid breaks every tie: keyset paging needs a total order.
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

}  // namespace

result<crunchbase_options> parse_crunchbase_options(std::span<const std::string_view> args,
                                                    std::string* why) {
  crunchbase_options o;
  o.common.listen.port = crunchbase_default_port;
  const auto text_flag = [](std::string_view name, std::string& out) {
    return sim_extra_flag{name, true, [&out](std::string_view v) {
                            out = v;
                            return std::string();
                          }};
  };
  const std::array<sim_extra_flag, 5> extras = {
      sim_number_flag("--orgs", 0, 1'000'000, o.orgs, "an organization count 0..1000000"),
      text_flag("--key", o.key),
      text_flag("--basic-key", o.basic_key),
      sim_number_flag("--rate-limit", 0, 1'000'000, o.calls_per_minute,
                      "a number of calls per minute 0..1000000"),
      sim_number_flag("--rate-window", 1, 86'400, o.rate_window_seconds,
                      "a number of seconds 1..86400"),
  };
  if (const auto ec = parse_sim_upstream_flags(args, o.common, extras, why)) {
    return ec;
  }
  if (o.key.empty()) {
    if (why != nullptr) {
      *why = "--key: the key may not be empty";
    }
    return make_error_code(errc::invalid_config);
  }
  return o;
}

std::string crunchbase_usage() {
  return "crunchbase-sim: the project's simulator of Crunchbase's organization search (API v4)\n"
         "(see docs/simulators.md)\n\nUsage: crunchbase-sim [flags]\n\n"
         "  --orgs N                 organizations, 0..1000000 (default 3000)\n"
         "  --key K                  the user key with every field (default test-key)\n"
         "  --basic-key K            a Basic key, refused the non-Basic fields (default none)\n"
         "  --rate-limit N           calls per minute per key, then 429 (default 200; 0: off)\n"
         "  --rate-window S          the rate limit's window in seconds (default 60)\n\n" +
         sim_upstream_usage(crunchbase_default_port);
}

crunchbase_sim::crunchbase_sim(const crunchbase_options& options)
    : sim_upstream("crunchbase-sim", options.common,
                   options.common.seed ? *options.common.seed : sim_random_seed()),
      options_(options),
      data_(seed(), options.orgs),
      limiter_(options.calls_per_minute, std::chrono::seconds{options.rate_window_seconds}) {}

std::shared_ptr<const std::vector<crunchbase_org>> crunchbase_sim::organizations() const {
  const auto offset = clock().offset();
  std::lock_guard lock(mutex_);
  if (offset != cached_offset_) {
    cached_ = std::make_shared<const std::vector<crunchbase_org>>(
        data_.at(crunchbase_epoch + std::chrono::floor<std::chrono::seconds>(offset)));
    cached_offset_ = offset;
  }
  return cached_;
}

void crunchbase_sim::config_extra(bj::object& config) const {
  config["orgs"] = data_.size();
  config["basic_key"] = !options_.basic_key.empty();
  config["rate_limit"] = options_.calls_per_minute;
  config["rate_window_seconds"] = options_.rate_window_seconds;
  config["data_now"] = sim_iso_seconds(crunchbase_epoch +
                                       std::chrono::floor<std::chrono::seconds>(clock().offset()));
}

void crunchbase_sim::report_extra(bj::object& report) const {
  std::lock_guard lock(mutex_);
  std::uint64_t most = 0;
  for (const auto& [minute, calls] : calls_per_minute_) {
    most = std::max(most, calls);
  }
  report["calls_per_minute_max"] = most;
  most = 0;
  for (const auto& [window, calls] : calls_per_window_) {
    most = std::max(most, calls);
  }
  report["calls_per_window_max"] = most;
  report["rate_limited"] = rate_limited_;
}

void crunchbase_sim::reset_extra() {
  limiter_.reset();
  std::lock_guard lock(mutex_);
  calls_per_minute_.clear();
  calls_per_window_.clear();
  rate_limited_ = 0;
}

sim_reply crunchbase_sim::route(const sim_request& request) {
  const bool searching = request.path() == search_path && request.method == "POST";
  const bool completing = request.path() == autocomplete_path && request.method == "GET";
  if (!searching && !completing) {
    return error_reply({{404, "LA404", "Not found"}});
  }
  const auto now = clock().now();
  {
    std::lock_guard lock(mutex_);
    ++calls_per_minute_[now.time_since_epoch().count() / 60'000];
    ++calls_per_window_[now.time_since_epoch().count() /
                        (std::int64_t{options_.rate_window_seconds} * 1000)];
  }
  std::string key(request.header("X-cb-user-key"));
  if (key.empty()) {
    key = sim_query_param(request.query(), "user_key").value_or("");
  }
  if (key.empty()) {
    return error_reply({{401, "LA401", "Unauthorized: no user key given"}});
  }
  const bool basic = !options_.basic_key.empty() && key == options_.basic_key;
  if (key != options_.key && !basic) {
    return error_reply({{401, "LA401", "Unauthorized: invalid user key"}});
  }
  if (options_.calls_per_minute > 0 && !limiter_.admit(key, 1, now)) {
    std::lock_guard lock(mutex_);
    ++rate_limited_;
    return error_reply({{429, "LA429", "Rate limit exceeded"}});
  }
  return searching ? search(request, basic) : autocomplete(request);
}

// GET /api/v4/autocompletes?query=Q[&collection_ids=organizations][&limit=N]: the organizations
// whose name or permalink contains Q (case-insensitive), in the data's order, at most `limit`
// (1..25, default 10), each as its identifier and short description.
sim_reply crunchbase_sim::autocomplete(const sim_request& request) {
  const auto query = sim_query_param(request.query(), "query").value_or("");
  if (query.empty()) {
    return error_reply({{400, "MD100", "query is required"}});
  }
  const auto collections = sim_query_param(request.query(), "collection_ids");
  if (collections && collections->find("organizations") == std::string::npos) {
    return error_reply({{400, "MD100", "collection_ids: only organizations are simulated"}});
  }
  std::int64_t limit = autocomplete_default_limit;
  if (const auto l = sim_query_param(request.query(), "limit")) {
    if (!sim_parse_number(*l, 1, autocomplete_max_limit, limit)) {
      return error_reply({{400, "MD100", "limit must be an integer from 1 to 25"}});
    }
  }
  const auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  const auto wanted = lower(query);
  const auto orgs = organizations();
  bj::array entities;
  std::int64_t count = 0;
  for (const auto& org : *orgs) {
    bool match = false;
    for (std::string_view key : {"name", "permalink"}) {
      if (const auto* v = org.properties.if_contains(key); v && v->is_string()) {
        match = match || lower(v->as_string()).find(wanted) != std::string::npos;
      }
    }
    if (!match) {
      continue;
    }
    ++count;
    if (static_cast<std::int64_t>(entities.size()) < limit) {
      bj::object entity{{"identifier", org.properties.at("identifier")}};
      if (const auto* d = org.properties.if_contains("short_description")) {
        entity["short_description"] = *d;
      }
      report().served("organizations", org.uuid);
      entities.push_back(std::move(entity));
    }
  }
  sim_reply reply;
  reply.body = bj::serialize(bj::object{{"count", count}, {"entities", std::move(entities)}});
  reply.headers = {{"Cache-Control", "no-cache, private"}};
  return reply;
}

sim_reply crunchbase_sim::search(const sim_request& request, bool basic) {
  error_code ec;
  const auto body = bj::parse(request.body, ec);
  if (ec || !body.is_object()) {
    return error_reply({{400, "MD100", "Request body must be a JSON object"}});
  }
  const auto& o = body.as_object();
  std::vector<problem> problems;
  const auto known = [&](std::string_view field, std::string_view where) -> const field_info* {
    const auto it = fields().find(field);
    if (it == fields().end()) {
      problems.push_back({400, "MD100", fmt::format("Unknown field '{}' in {}", field, where)});
      return nullptr;
    }
    if (basic && !it->second.basic) {
      problems.push_back(
          {403, "MD403", fmt::format("insufficient permissions to read field {}", field)});
      return nullptr;
    }
    return &it->second;
  };

  std::set<std::string, std::less<>> wanted{"identifier"};
  if (const auto* ids = o.if_contains("field_ids")) {
    if (!ids->is_array()) {
      problems.push_back({400, "MD100", "field_ids must be an array of field ids"});
    } else {
      for (const auto& id : ids->as_array()) {
        if (!id.is_string()) {
          problems.push_back({400, "MD100", "field_ids must be an array of field ids"});
        } else if (known(id.as_string(), "field_ids")) {
          wanted.emplace(id.as_string());
        }
      }
    }
  }

  std::vector<predicate> predicates;
  if (const auto* query = o.if_contains("query")) {
    for (const auto& item : query->is_array() ? query->as_array() : bj::array{*query}) {
      const auto* p = item.if_object();
      const auto* field = p ? p->if_contains("field_id") : nullptr;
      const auto* op = p ? p->if_contains("operator_id") : nullptr;
      if (p == nullptr || !field || !field->is_string() || !op || !op->is_string() ||
          p->if_contains("type") == nullptr || p->at("type") != "predicate") {
        problems.push_back({400, "MD100",
                            "Each query item must be {\"type\":\"predicate\",\"field_id\","
                            "\"operator_id\",\"values\"}"});
        continue;
      }
      const auto* info = known(field->as_string(), "query");
      if (info == nullptr) {
        continue;
      }
      predicate pr{std::string(field->as_string()), info->type, std::string(op->as_string()), {}};
      if (!allowed(info->type, pr.op)) {
        problems.push_back(
            {400, "MD100",
             fmt::format("Operator '{}' is not allowed for field '{}'", pr.op, pr.field)});
        continue;
      }
      if (const auto* values = p->if_contains("values"); values && values->is_array()) {
        pr.values = values->as_array();
      }
      const bool ok = [&] {
        if (pr.op == "blank") {
          return true;
        }
        const std::size_t need = pr.op == "between" ? 2 : 1;
        if (pr.values.size() < need) {
          return false;
        }
        return std::all_of(pr.values.begin(), pr.values.end(), [&](const bj::value& v) {
          switch (pr.type) {
            case field_type::date_time:
              return parse_date(v).has_value();
            case field_type::integer:
              return v.is_int64();
            default:
              return v.is_string();
          }
        });
      }();
      if (!ok) {
        problems.push_back(
            {400, "MD100",
             fmt::format("Invalid values for field '{}' with operator '{}'", pr.field, pr.op)});
        continue;
      }
      predicates.push_back(std::move(pr));
    }
  }

  std::vector<order_key> order;
  if (const auto* list = o.if_contains("order"); list && list->is_array()) {
    for (const auto& item : list->as_array()) {
      const auto* k = item.if_object();
      const auto* field = k ? k->if_contains("field_id") : nullptr;
      if (!field || !field->is_string()) {
        problems.push_back({400, "MD100", "Each order item needs a field_id"});
        continue;
      }
      const auto* info = known(field->as_string(), "order");
      if (info == nullptr) {
        continue;
      }
      const auto* sort = k->if_contains("sort");
      const auto* nulls = k->if_contains("nulls");
      if ((sort && *sort != "asc" && *sort != "desc") ||
          (nulls && *nulls != "first" && *nulls != "last") ||
          info->type == field_type::identifier_multi) {
        problems.push_back(
            {400, "MD100", fmt::format("Invalid order on field '{}'", field->as_string())});
        continue;
      }
      order.push_back(
          {std::string(field->as_string()), sort && *sort == "desc", nulls && *nulls == "first"});
    }
  }

  std::int64_t limit = default_limit;
  if (const auto* l = o.if_contains("limit")) {
    if (!l->is_int64() || l->as_int64() < 1 || l->as_int64() > max_limit) {
      problems.push_back({400, "MD100", "limit must be an integer from 1 to 1000"});
    } else {
      limit = l->as_int64();
    }
  }
  const auto* after = o.if_contains("after_id");
  const auto* before = o.if_contains("before_id");
  if (after && before) {
    problems.push_back({400, "MD100", "after_id and before_id cannot be used together"});
  }
  if (!problems.empty()) {
    return error_reply(problems);
  }

  const auto snapshot = organizations();
  const auto& orgs = *snapshot;
  std::vector<const crunchbase_org*> found;
  for (const auto& org : orgs) {
    if (std::all_of(predicates.begin(), predicates.end(),
                    [&](const predicate& p) { return matches(org, p); })) {
      found.push_back(&org);
    }
  }
  std::sort(found.begin(), found.end(), [&](const crunchbase_org* a, const crunchbase_org* b) {
    return compare(*a, *b, order) < 0;
  });
  const std::size_t count = found.size();
  auto first = found.begin();
  auto last = found.end();
  if (const auto* cursor = after ? after : before) {
    // Keyset: the position of the cursor's entity in this order, by its values (it need not
    // match the query itself).
    const auto it = cursor->is_string() ? std::find_if(orgs.begin(), orgs.end(),
                                                       [&](const crunchbase_org& org) {
                                                         return org.uuid == cursor->as_string();
                                                       })
                                        : orgs.end();
    if (it == orgs.end()) {
      return error_reply(
          {{400, "MD100",
            fmt::format("{} does not name an organization", after ? "after_id" : "before_id")}});
    }
    const auto split =
        std::partition_point(found.begin(), found.end(),
                             [&](const crunchbase_org* e) { return compare(*e, *it, order) < 0; });
    if (after) {
      first = split == found.end() || (*split)->uuid != it->uuid ? split : split + 1;
    } else {
      last = split;
      first = last - std::min<std::ptrdiff_t>(limit, last - found.begin());
    }
  }
  last = first + std::min<std::ptrdiff_t>(limit, last - first);

  bj::array entities;
  for (auto e = first; e != last; ++e) {
    const auto& org = **e;
    bj::object properties;
    for (const auto& member : org.properties) {
      if (wanted.contains(member.key())) {
        properties.emplace(member.key(), member.value());
      }
    }
    report().served("organizations", org.uuid);
    report().served("versions", org.uuid + "@" + sim_iso_seconds(org.updated_at));
    entities.push_back({{"uuid", org.uuid}, {"properties", std::move(properties)}});
  }
  const auto page = entities.size();
  sim_reply reply;
  reply.body = bj::serialize(bj::object{{"count", count}, {"entities", std::move(entities)}});
  reply.headers = {
      {"Cache-Control", "no-cache, private"},
      {"Etag", fmt::format("W/\"{}\"", sim_hex_id(sim_text_hash(reply.body), 0, 0, 32))},
      {"X-Cb-Engine-Total-Count", std::to_string(count)},
      {"X-Cb-Engine-Page-Count", std::to_string(page)},
  };
  return reply;
}

}  // namespace etl
