#include "etl/sim/randomuser.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/sim/dataset.hpp"

namespace etl {
namespace {

namespace bj = boost::json;

enum : std::uint64_t { salt_request_seed = 0x52616e646f6d0100ULL, salt_outage };

constexpr std::array<std::string_view, 12> fields = {"gender", "name",       "location", "email",
                                                     "login",  "registered", "dob",      "phone",
                                                     "cell",   "id",         "picture",  "nat"};

sim_reply json_reply(unsigned status, std::string body) {
  sim_reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers = {{"Cache-Control", "no-cache"}, {"Access-Control-Allow-Origin", "*"}};
  return reply;
}

// An integer parameter in [min, max], else `fallback` (upstream's rule: anything else is 1).
std::int64_t bounded(const std::optional<std::string>& text, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  return text && sim_parse_number(*text, min, max, n) ? n : 1;
}

std::vector<std::string> comma_list(const std::string& text, bool upper) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    auto item = text.substr(start, comma - start);
    std::transform(item.begin(), item.end(), item.begin(), [upper](char c) {
      return static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                     : std::tolower(static_cast<unsigned char>(c)));
    });
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    if (comma == std::string::npos) {
      return out;
    }
    start = comma + 1;
  }
}

std::string outage_body() {
  return R"({"error":"Uh oh, something has gone wrong. Please tell us about it at https://github.com/RandomAPI/Randomuser.me-Node/issues"})";
}

}  // namespace

result<randomuser_options> parse_randomuser_options(std::span<const std::string_view> args,
                                                    std::string* why) {
  randomuser_options o;
  o.common.listen.port = randomuser_default_port;
  std::int64_t window = o.quota_window.count();
  auto status = sim_number_flag("--quota-status", 429, 503, o.quota_status, "429 or 503");
  status.store = [&o, store = status.store](std::string_view v) {
    auto error = store(v);
    return error.empty() && o.quota_status != 429 && o.quota_status != 503 ? "429 or 503" : error;
  };
  const std::array<sim_extra_flag, 4> extras = {
      sim_number_flag("--quota", 0, 1'000'000'000, o.quota, "a user count 0..1000000000"),
      sim_number_flag("--quota-window", 1, 86'400, window, "a number of seconds 1..86400"),
      std::move(status),
      sim_number_flag("--outage-percent", 0, 100, o.outage_percent, "a percentage 0..100"),
  };
  if (const auto ec = parse_sim_upstream_flags(args, o.common, extras, why)) {
    return ec;
  }
  o.quota_window = std::chrono::seconds{window};
  return o;
}

std::string randomuser_usage() {
  return "randomuser-sim: the project's simulator of randomuser.me 1.4 (see docs/simulators.md)\n\n"
         "Usage: randomuser-sim [flags]\n\n"
         "  --quota N                users a client may request per window, counted by the sum\n"
         "                           of results; the crossing request is served (default 20000;\n"
         "                           0: no quota). A client is the X-Forwarded-For address when\n"
         "                           sent, else the peer's\n"
         "  --quota-window S         fixed quota windows of S seconds (default 300)\n"
         "  --quota-status N         429 (default) or 503, as an older deployment answered\n"
         "  --outage-percent P       P percent of API requests answer 500 with the outage body\n"
         "                           (default 0)\n\n" +
         sim_upstream_usage(randomuser_default_port);
}

randomuser_sim::randomuser_sim(const randomuser_options& options)
    : sim_upstream("randomuser-sim", options.common,
                   options.common.seed ? *options.common.seed : sim_random_seed()),
      options_(options),
      quota_(options.quota, options.quota_window) {}

void randomuser_sim::config_extra(bj::object& config) const {
  config["quota"] = options_.quota;
  config["quota_window"] = options_.quota_window.count();
  config["quota_status"] = options_.quota_status;
  config["outage_percent"] = options_.outage_percent;
}

void randomuser_sim::report_extra(bj::object& report) const {
  bj::object clients;
  std::lock_guard lock(clients_mutex_);
  for (const auto& [client, users] : users_per_client_) {
    clients[client] = users;
  }
  report["users_per_client"] = std::move(clients);
}

void randomuser_sim::reset_extra() {
  quota_.reset();
  std::lock_guard lock(clients_mutex_);
  users_per_client_.clear();
}

sim_reply randomuser_sim::route(const sim_request& request) {
  std::string_view path = request.path();
  if (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  std::string_view version = "1.4";
  if (path.starts_with("/api/")) {
    version = path.substr(5);
    static constexpr std::array<std::string_view, 5> versions = {"1.0", "1.1", "1.2", "1.3", "1.4"};
    if (std::find(versions.begin(), versions.end(), version) == versions.end()) {
      return json_reply(404, R"({"error":"Not Found"})");
    }
  } else if (path != "/api") {
    return json_reply(404, R"({"error":"Not Found"})");
  }
  if (request.method != "GET") {
    return json_reply(404, R"({"error":"Not Found"})");
  }
  const std::uint64_t number = requests_.fetch_add(1, std::memory_order_relaxed);
  if (options_.outage_percent > 0 &&
      sim_hash(seed(), salt_outage, number) % 100 < options_.outage_percent) {
    return json_reply(500, outage_body());
  }

  const auto query = request.query();
  const auto param = [&](std::string_view name) { return sim_query_param(query, name); };
  const std::int64_t results = bounded(param("results"), 1, 5000);
  // The client is the first X-Forwarded-For address when a proxy (or a test) says so.
  std::string client(request.client);
  if (const auto forwarded = request.header("X-Forwarded-For"); !forwarded.empty()) {
    client = forwarded.substr(0, forwarded.find(','));
    client.erase(0, client.find_first_not_of(' '));
  }
  std::uint64_t used = 0;
  if (options_.quota > 0 &&
      !quota_.admit(client, static_cast<std::uint64_t>(results), clock().now(), &used)) {
    return json_reply(
        options_.quota_status,
        bj::serialize(bj::object{
            {"error", fmt::format("Whoa, ease up there cowboy. You've requested {} users "
                                  "in the last minute. Help us keep this service free "
                                  "and spare some bandwidth for other users please :)",
                                  used)}}));
  }

  randomuser_request spec;
  spec.page = bounded(param("page"), 1, 10000);
  if (auto given = param("seed"); given && !given->empty()) {
    spec.seed = std::move(*given);
    spec.seed_given = true;
  } else {
    spec.seed = sim_hex_id(seed(), salt_request_seed, number, 16);
  }
  if (auto nat = param("nat")) {
    spec.nats = comma_list(*nat, true);
    const auto known = randomuser_nats();
    // One unknown code and the request gets users of any nationality.
    if (std::any_of(spec.nats.begin(), spec.nats.end(), [&](const std::string& code) {
          return std::find(known.begin(), known.end(), code) == known.end();
        })) {
      spec.nats.clear();
    }
  }
  // An 18-character seed picks its nationality with its last two hex digits.
  if (spec.seed_given && spec.seed.size() == 18 && spec.nats.empty()) {
    std::int64_t pick = 0;
    const auto tail = spec.seed.substr(16);
    if (std::all_of(tail.begin(), tail.end(),
                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      pick = std::stoll(tail, nullptr, 16);
      spec.nats = {std::string(randomuser_nats()[static_cast<std::size_t>(pick) % 21])};
    }
  }
  if (auto gender = param("gender"); gender && (*gender == "male" || *gender == "female")) {
    spec.gender = *gender;
  }
  std::vector<std::string> inc = comma_list(param("inc").value_or(""), false);
  std::vector<std::string> exc = comma_list(param("exc").value_or(""), false);
  const auto wanted = [&](std::string_view field) {
    if (!inc.empty()) {
      return std::find(inc.begin(), inc.end(), field) != inc.end();
    }
    return std::find(exc.begin(), exc.end(), field) == exc.end();
  };

  const auto today = std::chrono::floor<std::chrono::days>(clock().now());
  bj::array users;
  users.reserve(static_cast<std::size_t>(results));
  for (std::int64_t i = 0; i < results; ++i) {
    auto user = randomuser_user(spec, static_cast<std::uint64_t>(i), today);
    report().served("users", user.at("login").at("uuid").as_string());
    if (!inc.empty() || !exc.empty()) {
      bj::object kept;
      for (const auto field : fields) {
        if (wanted(field)) {
          kept.emplace(field, std::move(user[field]));
        }
      }
      user = std::move(kept);
    }
    users.emplace_back(std::move(user));
  }
  {
    std::lock_guard lock(clients_mutex_);
    users_per_client_[client] += static_cast<std::uint64_t>(results);
  }
  bj::object body{{"results", std::move(users)}};
  if (!param("noinfo")) {
    body["info"] = {
        {"seed", spec.seed}, {"results", results}, {"page", spec.page}, {"version", version}};
  }
  std::string text = bj::serialize(body);
  if (auto callback = param("callback"); callback && !callback->empty()) {
    sim_reply reply = json_reply(200, fmt::format("{}({});", *callback, text));
    reply.content_type = "text/javascript";
    return reply;
  }
  return json_reply(200, std::move(text));
}

}  // namespace etl
