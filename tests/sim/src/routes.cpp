#include "etl/sim/routes.hpp"

#include <random>

#include <boost/json.hpp>

#include "etl/sim/faults.hpp"
#include "etl/sim/validate.hpp"

namespace etl {
namespace {

constexpr std::string_view json_type = "application/json";
constexpr std::string_view text_type = "text/plain; charset=utf-8";
constexpr std::string_view listing_path = "/animals/v1/animals";
constexpr std::string_view detail_prefix = "/animals/v1/animals/";
constexpr std::string_view home_path = "/animals/v1/home";
constexpr std::size_t max_home_items = 100;

enum : std::uint64_t { draw_cut, draw_field, draw_item };

sim_reply json_reply(unsigned status, std::string body) {
  return {status, json_type, std::move(body), {}, sim_delivery::normal};
}
sim_reply text_reply(unsigned status, std::string body) {
  return {status, text_type, std::move(body), {}, sim_delivery::normal};
}
// Starlette's answer to an exception escaping a handler.
sim_reply internal_error() {
  return text_reply(500, "Internal Server Error");
}
sim_reply not_found() {
  return json_reply(404, R"({"detail":"Not Found"})");
}
sim_reply method_not_allowed() {
  return json_reply(405, R"({"detail":"Method Not Allowed"})");
}

sim_reply not_an_integer(std::string_view where, std::string_view name) {
  const sim_field_error error{boost::json::array{where, name}, "value is not a valid integer",
                              "type_error.integer"};
  return json_reply(422, validation_error_body({&error, 1}));
}

bool is_route(std::string_view path) {
  return path == "/" || path == listing_path || path == home_path || path == "/sim/report" ||
         path == "/sim/config" || path == "/sim/reset" ||
         (path.starts_with(detail_prefix) && path.size() > detail_prefix.size() &&
          path.find('/', detail_prefix.size()) == std::string_view::npos);
}

std::chrono::milliseconds::rep now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t random_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

sim_dataset make_dataset(const sim_options& options) {
  const std::uint64_t seed = options.seed ? *options.seed : random_seed();
  const std::int64_t pages = options.pages.value_or(sim_default_total_pages(seed));
  // With a fixed seed the upper bound is fixed too, so the data depend on the seed only.
  const std::int64_t bound = options.seed ? sim_seeded_born_at_max_ms : now_ms();
  return {seed, pages, bound, options.repeat_ids_percent};
}

}  // namespace

sim_app::sim_app(const sim_options& options)
    : options_(options),
      data_(make_dataset(options)),
      chaos_(data_.seed(), options.chaos),
      report_(data_, options.verify),
      capacity_(options.capacity.enabled() ? std::make_unique<sim_capacity>(options.capacity)
                                           : nullptr) {
  report_.attach_capacity(capacity_.get());
}

sim_admission sim_app::admit(std::string_view method, std::string_view target) {
  report_.count_request();
  const auto path = target.substr(0, target.find('?'));
  if (path == "/" || path.starts_with("/sim/")) {
    return {};
  }
  sim_admission out;
  const bool home_post = method == "POST" && path == home_path;
  if (home_post) {
    report_.count_post_admitted();
    if (options_.refuse_posts > 0 &&
        posts_refused_.fetch_add(1, std::memory_order_relaxed) < options_.refuse_posts) {
      report_.count_post_refused();
      out.early = text_reply(503, "Sorry!");
      out.early->retry_after = "2";
      return out;
    }
  }
  out.request_no = chaos_sequence_.fetch_add(1, std::memory_order_relaxed);
  const auto verdict = chaos_.chaos_for(*out.request_no);
  if (verdict.what == sim_chaos_verdict::kind::error) {
    report_.count_chaos(verdict.what);
    out.early = text_reply(verdict.status, "Sorry!");
  } else if (verdict.what == sim_chaos_verdict::kind::pause &&
             !(options_.no_post_pause && method == "POST")) {
    report_.count_chaos(verdict.what);
    out.pause = verdict.pause;
  }
  if (home_post) {
    out.pause += options_.post_delay;
  }
  if (method == "GET" && (path == listing_path || path.starts_with(detail_prefix))) {
    out.source_get = true;
    out.pause += options_.get_delay;
  }
  return out;
}

sim_reply sim_app::handle(std::string_view method, std::string_view target, std::string_view body,
                          const sim_admission& admission) {
  const auto question = target.find('?');
  const auto raw_path = target.substr(0, question);
  const auto query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  std::string decoded;
  std::string_view path = raw_path;
  if (raw_path.find('%') != std::string_view::npos) {
    decoded = sim_percent_decode(raw_path, false);
    path = decoded;
  }
  const bool get = method == "GET";
  const bool post = method == "POST";

  if (path.starts_with(detail_prefix) && path.size() > detail_prefix.size() &&
      path.find('/', detail_prefix.size()) == std::string_view::npos) {
    return get ? detail(path.substr(detail_prefix.size()), admission) : method_not_allowed();
  }
  if (path == listing_path) {
    return get ? listing(query, admission) : method_not_allowed();
  }
  if (path == home_path) {
    return post ? home(body) : method_not_allowed();
  }
  if (path == "/") {
    return get ? json_reply(200, "\"Hello!\"") : method_not_allowed();
  }
  if (path == "/sim/report") {
    return get ? json_reply(200, report_.to_json()) : method_not_allowed();
  }
  if (path == "/sim/config") {
    return get ? json_reply(200, config_json()) : method_not_allowed();
  }
  if (path == "/sim/reset") {
    if (!post) {
      return method_not_allowed();
    }
    report_.reset();
    if (capacity_) {
      capacity_->reset_counters();
    }
    return json_reply(200, R"({"reset":true})");
  }
  // Starlette's redirect_slashes: "/x/" answers 307 to "/x" when "/x" is a route.
  if (path.size() > 1 && path.ends_with('/') && is_route(path.substr(0, path.size() - 1))) {
    sim_reply reply = json_reply(307, "");
    reply.location = std::string(raw_path.substr(0, raw_path.size() - 1));
    if (!query.empty()) {
      reply.location += '?';
      reply.location += query;
    }
    return reply;
  }
  return not_found();
}

sim_reply sim_app::listing(std::string_view query, const sim_admission& admission) {
  std::int64_t page = 1;
  std::string literal = "1";
  if (auto text = sim_query_param(query, "page")) {
    auto parsed = parse_python_int(*text);
    if (!parsed.value) {
      return not_an_integer("query", "page");
    }
    page = *parsed.value;
    literal = std::move(parsed.literal);
  }
  sim_reply reply = json_reply(200, {});
  reply.body.reserve(640);
  data_.append_listing_json(reply.body, page, literal);
  if (admission.request_no) {
    apply_fault(reply, *admission.request_no, std::nullopt,
                std::pair<std::int64_t, std::string>{page, std::move(literal)});
  }
  return reply;
}

sim_reply sim_app::detail(std::string_view id_text, const sim_admission& admission) {
  const auto parsed = parse_python_int(id_text);
  if (!parsed.value) {
    return not_an_integer("path", "animal_id");
  }
  // The original indexes a list: past the end (or negative here) is an unhandled error.
  if (parsed.overflow || !data_.contains(*parsed.value)) {
    return internal_error();
  }
  sim_reply reply = json_reply(200, {});
  reply.body.reserve(160);
  data_.append_detail_json(reply.body, *parsed.value);
  if (admission.request_no) {
    apply_fault(reply, *admission.request_no, parsed.value, std::nullopt);
  }
  return reply;
}

sim_reply sim_app::home(std::string_view body) {
  const auto validation = validate_home_body(body);
  sim_reply reply;
  if (!validation.ok()) {
    reply = json_reply(422, validation_error_body(validation.errors));
  } else if (validation.animals.size() > max_home_items) {
    reply = json_reply(400, R"({"detail":"Sorry, only 100 animals at a time"})");
  } else if (!report_.take_post(validation.animals)) {
    reply = internal_error();
  } else {
    reply = json_reply(200, "{\"message\":\"Helped " + std::to_string(validation.animals.size()) +
                                " find home\"}");
  }
  report_.count_post(reply.status != 200);
  return reply;
}

void sim_app::apply_fault(sim_reply& reply, std::uint64_t request_no,
                          std::optional<std::int64_t> id,
                          std::optional<std::pair<std::int64_t, std::string>> page) {
  const sim_fault fault = chaos_.fault_for(request_no);
  switch (fault) {
    case sim_fault::none:
      return;
    case sim_fault::wrong_types:
    case sim_fault::missing_fields: {
      sim_distortion distortion;
      distortion.what = fault == sim_fault::wrong_types ? sim_distortion::kind::wrong_type
                                                        : sim_distortion::kind::missing;
      // Listing items carry no friends: only id, name and born_at can be distorted there.
      const std::uint64_t fields = id ? 4 : 3;
      distortion.field =
          static_cast<sim_field>(chaos_.detail_draw(request_no, draw_field) % fields);
      distortion.item = chaos_.detail_draw(request_no, draw_item) % sim_page_size;
      std::string body;
      body.reserve(reply.body.size() + 16);
      if (id) {
        data_.append_detail_json(body, *id, distortion);
      } else if (!data_.append_listing_json(body, page->first, page->second, distortion)) {
        return;  // an empty page has no record to distort
      }
      reply.body = std::move(body);
      break;
    }
    default:
      sim_apply_body_fault(reply, fault, chaos_.detail_draw(request_no, draw_cut));
      break;
  }
  report_.count_fault(fault);
}

sim_listen_settings sim_app::listen_settings() const {
  return {options_.host,          options_.port, options_.threads, options_.keep_alive_timeout,
          options_.trickle_delay, "animals-sim"};
}

void sim_app::set_listening(std::uint16_t port, unsigned threads) noexcept {
  listening_port_.store(port, std::memory_order_relaxed);
  threads_.store(threads, std::memory_order_relaxed);
}

std::string sim_app::config_json() const {
  boost::json::object config{
      {"seed", data_.seed()},
      {"seed_fixed", options_.seed.has_value()},
      {"total_pages", data_.total_pages()},
      {"total", data_.total()},
      {"page_size", sim_page_size},
      {"born_at_min_ms", sim_born_at_min_ms},
      {"born_at_max_ms", data_.born_at_max_ms()},
      {"host", options_.host},
      {"port", listening_port_.load(std::memory_order_relaxed)},
      {"threads", threads_.load(std::memory_order_relaxed)},
      {"chaos_percent", options_.chaos.chaos_percent},
      {"pause_min", options_.chaos.pause_min_seconds},
      {"pause_max", options_.chaos.pause_max_seconds},
      {"no_post_pause", options_.no_post_pause},
      {"verify", options_.verify},
      {"faults", sim_fault_percents_json(options_.chaos)},
      {"trickle_delay_ms", options_.trickle_delay.count()},
      {"repeat_ids_percent", options_.repeat_ids_percent},
      {"post_delay_ms", options_.post_delay.count()},
      {"get_delay_ms", options_.get_delay.count()},
      {"refuse_posts", options_.refuse_posts},
      {"capacity_slots", options_.capacity.slots},
      {"request_cost_us", options_.capacity.cost.count()},
      {"overload_cost_us", options_.capacity.overload.count()},
      {"listed", data_.listed_total()},
      {"keep_alive_timeout", options_.keep_alive_timeout.count()},
  };
  return boost::json::serialize(config);
}

}  // namespace etl
