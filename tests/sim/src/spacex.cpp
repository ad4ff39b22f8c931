#include "etl/sim/spacex.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/sim/dataset.hpp"

namespace etl {
namespace {

namespace bj = boost::json;
constexpr std::string_view json_type = "application/json; charset=utf-8";
constexpr std::string_view text_type = "text/plain; charset=utf-8";
using namespace std::chrono_literals;
constexpr std::uint64_t salt_ties = 0x5370616365580100ULL;

sim_reply text(unsigned status, std::string body) {
  sim_reply reply;
  reply.status = status;
  reply.content_type = text_type;
  reply.body = std::move(body);
  return reply;
}

}  // namespace

result<spacex_options> parse_spacex_options(std::span<const std::string_view> args,
                                            std::string* why) {
  spacex_options o;
  o.common.listen.port = spacex_default_port;
  const std::array<sim_extra_flag, 4> extras = {
      sim_number_flag("--launches", 0, 1'000'000, o.launches, "a launch count 0..1000000"),
      sim_number_flag("--rate-limit", 0, 1'000'000, o.rate_limit,
                      "a number of requests per second 0..1000000"),
      sim_switch_flag("--crew-quirks", o.crew_quirks),
      sim_switch_flag("--stable-ties", o.stable_ties),
  };
  if (const auto ec = parse_sim_upstream_flags(args, o.common, extras, why)) {
    return ec;
  }
  return o;
}

std::string spacex_usage() {
  return "spacex-sim: the project's simulator of the SpaceX API v5 launches and v4 crew\n"
         "(see docs/simulators.md)\n\nUsage: spacex-sim [flags]\n\n"
         "  --launches N             launches to generate, 0..1000000 (default 205, the real\n"
         "                           dataset's shape; more adds past launches)\n"
         "  --crew-quirks            some crew with null fields, no launches, statuses other\n"
         "                           than active\n"
         "  --stable-ties            records tying on every sort key keep natural order (by\n"
         "                           default their order differs per page, as upstream)\n"
         "  --rate-limit N           N requests per second per client, then 429 (default 0: "
         "off)\n\n" +
         sim_upstream_usage(spacex_default_port);
}

spacex_sim::spacex_sim(const spacex_options& options)
    : sim_upstream("spacex-sim", options.common,
                   options.common.seed ? *options.common.seed : sim_random_seed()),
      options_(options),
      data_(make_spacex_dataset(seed(), options.launches, options.crew_quirks)),
      limiter_(options.rate_limit, std::chrono::seconds{1}) {
  for (std::size_t i = 0; i < data_.launches.size(); ++i) {
    launch_index_.emplace(std::string(data_.launches[i].at("id").as_string()), i);
  }
  for (std::size_t i = 0; i < data_.crew.size(); ++i) {
    crew_index_.emplace(std::string(data_.crew[i].at("id").as_string()), i);
  }
}

void spacex_sim::config_extra(bj::object& config) const {
  config["launches"] = data_.launches.size();
  config["crew"] = data_.crew.size();
  config["crew_quirks"] = options_.crew_quirks;
  config["stable_ties"] = options_.stable_ties;
  config["rate_limit"] = options_.rate_limit;
}

void spacex_sim::reset_extra() {
  limiter_.reset();
  std::lock_guard lock(cache_mutex_);
  cache_.clear();
}

void spacex_sim::served(const bj::object& record, std::string_view model) {
  const std::string_view id = record.at("id").as_string();
  if (model == "Crew") {
    report().served("crew", id);
    return;
  }
  report().served("launches", id);
  for (const auto& core : record.at("cores").as_array()) {
    if (const auto& c = core.as_object().at("core"); c.is_string()) {
      report().served("cores", fmt::format("{}/{}", c.as_string(), id));
    }
  }
}

// A 200 JSON answer with the API's headers; the cache header says whether the same URL and body
// were answered in the last max-age seconds (the API's own cache).
sim_reply spacex_sim::answer(const sim_request& request, std::string body, unsigned max_age) {
  const auto now = clock().now();
  const std::string key = std::string(request.target) + '\n' + std::string(request.body);
  bool hit = false;
  {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() > 10'000) {
      // Forget answers older than any max-age, so that a long run's memory stays flat.
      std::erase_if(cache_, [&](const auto& entry) { return now - entry.second > 300s; });
    }
    auto [it, fresh] = cache_.try_emplace(key, now);
    hit = !fresh && now - it->second < std::chrono::seconds{max_age};
    if (!fresh && !hit) {
      it->second = now;
    }
  }
  sim_reply reply;
  reply.content_type = json_type;
  reply.headers = {
      {"Cache-Control", fmt::format("max-age={}", max_age)},
      {"spacex-api-cache", hit ? "HIT" : "MISS"},
      {"spacex-api-response-time", hit ? "1ms" : "12ms"},
      {"ETag", fmt::format("W/\"{:x}-{}\"", body.size(),
                           sim_hex_id(sim_hash(body.size(), 0, 0) ^ std::hash<std::string>{}(body),
                                      0, 0, 27))},
  };
  reply.body = std::move(body);
  return reply;
}

sim_reply spacex_sim::route(const sim_request& request) {
  if (options_.rate_limit > 0 && !limiter_.admit(request.client, 1, clock().now())) {
    return text(429, "Too Many Requests");
  }
  std::string decoded;
  std::string_view path = request.path();
  if (path.find('%') != std::string_view::npos) {
    decoded = sim_percent_decode(path, false);
    path = decoded;
  }
  if (path.size() > 1 && path.ends_with('/')) {
    path.remove_suffix(1);
  }
  for (const auto& [prefix, v4] : {std::pair{std::string_view("/v5/launches"), false},
                                   std::pair{std::string_view("/v4/launches"), true}}) {
    if (path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/')) {
      return launches_route(request, path.substr(prefix.size()), v4);
    }
  }
  if (path == "/v4/crew" || path.starts_with("/v4/crew/")) {
    return crew_route(request, path.substr(8));
  }
  return text(404, "Not Found");
}

sim_reply spacex_sim::query(const sim_request& request, const std::vector<bj::object>& records,
                            std::string_view model, bool v4) {
  bj::value body = bj::object{};
  if (!request.body.empty()) {
    error_code ec;
    body = bj::parse(request.body, ec);
    if (ec) {
      return text(400, "Bad Request");
    }
  }
  const std::optional<std::uint64_t> ties =
      options_.stable_ties ? std::nullopt : std::optional(sim_hash(seed(), salt_ties, 0));
  auto result = spacex_query(records, body, model, ties);
  if (!result) {
    return text(400, result.error().message);
  }
  if (v4) {
    for (auto& doc : result->envelope["docs"].as_array()) {
      doc = spacex_launch_v4(doc.as_object());
    }
  }
  for (const auto* record : result->records) {
    served(*record, model);
  }
  return answer(request, bj::serialize(result->envelope), model == "Crew" ? 300 : 20);
}

sim_reply spacex_sim::launches_route(const sim_request& request, std::string_view rest, bool v4) {
  const auto render = [&](const bj::object& launch) {
    served(launch, "Launch");
    return v4 ? spacex_launch_v4(launch) : launch;
  };
  if (rest == "/query") {
    return request.method == "POST" ? query(request, data_.launches, "Launch", v4)
                                    : text(404, "Not Found");
  }
  if (request.method != "GET") {
    return text(404, "Not Found");
  }
  if (rest.empty() || rest == "/past" || rest == "/upcoming") {
    bj::array out;
    for (const auto& launch : data_.launches) {
      const bool upcoming = launch.at("upcoming").as_bool();
      if (rest.empty() || upcoming == (rest == "/upcoming")) {
        out.emplace_back(render(launch));
      }
    }
    return answer(request, bj::serialize(out), 20);
  }
  if (rest == "/latest" || rest == "/next") {
    // latest: the last past launch by date; next: the first upcoming one by date.
    const bool next = rest == "/next";
    const bj::object* best = nullptr;
    for (const auto& launch : data_.launches) {
      if (launch.at("upcoming").as_bool() != next) {
        continue;
      }
      const std::string_view date = launch.at("date_utc").as_string();
      if (best == nullptr || (next ? date < std::string_view(best->at("date_utc").as_string())
                                   : date > std::string_view(best->at("date_utc").as_string()))) {
        best = &launch;
      }
    }
    if (best == nullptr) {
      return text(404, "Not Found");
    }
    return answer(request, bj::serialize(render(*best)), 20);
  }
  const auto id = rest.substr(1);
  const auto it = launch_index_.find(id);
  if (it == launch_index_.end()) {
    return text(404, "Not Found");
  }
  return answer(request, bj::serialize(render(data_.launches[it->second])), 20);
}

sim_reply spacex_sim::crew_route(const sim_request& request, std::string_view rest) {
  if (rest == "/query") {
    return request.method == "POST" ? query(request, data_.crew, "Crew", false)
                                    : text(404, "Not Found");
  }
  if (request.method != "GET") {
    return text(404, "Not Found");
  }
  if (rest.empty()) {
    bj::array out;
    for (const auto& member : data_.crew) {
      served(member, "Crew");
      out.emplace_back(member);
    }
    return answer(request, bj::serialize(out), 300);
  }
  const auto it = crew_index_.find(rest.substr(1));
  if (it == crew_index_.end()) {
    return text(404, "Not Found");
  }
  served(data_.crew[it->second], "Crew");
  return answer(request, bj::serialize(data_.crew[it->second]), 300);
}

}  // namespace etl
