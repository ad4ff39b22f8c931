#include "etl/sim/faults.hpp"

#include <boost/json.hpp>

#include "etl/core/aliases.hpp"

namespace etl {
namespace {

constexpr std::size_t big_body_size = 1024 * 1024;

// The record a distortion hits, or nullptr when the body holds none.
boost::json::object* pick_record(boost::json::value& body, std::uint64_t draw) {
  boost::json::array* records = body.if_array();
  if (records == nullptr && body.is_object()) {
    for (auto& member : body.get_object()) {
      if (auto* list = member.value().if_array();
          list && !list->empty() && list->front().is_object()) {
        records = list;
        break;
      }
    }
    if (records == nullptr) {
      return &body.get_object();
    }
  }
  if (records == nullptr || records->empty()) {
    return nullptr;
  }
  return (*records)[draw % records->size()].if_object();
}

// A value of another JSON type than `v`: what a careless upstream change would send.
boost::json::value other_type(const boost::json::value& v) {
  if (v.is_string()) {
    return 12345;
  }
  if (v.is_null()) {
    return boost::json::array{};
  }
  return boost::json::string(boost::json::serialize(v));
}

}  // namespace

boost::json::object sim_fault_percents_json(const sim_chaos_settings& settings) {
  boost::json::object faults;
  for (std::size_t i = 0; i < settings.fault_percent.size(); ++i) {
    faults[to_string(static_cast<sim_fault>(i + 1))] = settings.fault_percent[i];
  }
  return faults;
}

void sim_chaos_counters::count_chaos(sim_chaos_verdict::kind what) noexcept {
  if (what == sim_chaos_verdict::kind::error) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  } else if (what == sim_chaos_verdict::kind::pause) {
    pauses_.fetch_add(1, std::memory_order_relaxed);
  }
}

void sim_chaos_counters::count_fault(sim_fault fault) noexcept {
  if (fault != sim_fault::none) {
    faults_[static_cast<std::size_t>(fault) - 1].fetch_add(1, std::memory_order_relaxed);
  }
}

void sim_chaos_counters::reset() noexcept {
  errors_.store(0, std::memory_order_relaxed);
  pauses_.store(0, std::memory_order_relaxed);
  for (auto& c : faults_) {
    c.store(0, std::memory_order_relaxed);
  }
}

void sim_chaos_counters::add_to(boost::json::object& report) const {
  boost::json::object faults;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    faults[to_string(static_cast<sim_fault>(i + 1))] = faults_[i].load(std::memory_order_relaxed);
  }
  report["chaos"] = {{"errors", errors_.load(std::memory_order_relaxed)},
                     {"pauses", pauses_.load(std::memory_order_relaxed)}};
  report["faults"] = std::move(faults);
}

bool sim_apply_body_fault(sim_reply& reply, sim_fault fault, std::uint64_t draw) {
  switch (fault) {
    case sim_fault::malformed_json: {
      // Any strict prefix of a JSON object is invalid JSON; keep at least one byte.
      const auto size = reply.body.size();
      if (size > 1) {
        reply.body.resize(1 + draw % (size - 1));
      }
      return true;
    }
    case sim_fault::html_error:
      reply.status = 502;
      reply.content_type = "text/html";
      reply.headers.clear();
      reply.body =
          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
          "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
          "</body>\r\n</html>\r\n";
      return true;
    case sim_fault::reset:
      reply.delivery = sim_delivery::reset;
      return true;
    case sim_fault::trickle:
      reply.delivery = sim_delivery::trickle;
      return true;
    case sim_fault::big_body: {
      if (reply.body.size() + 16 >= big_body_size) {
        return true;  // already that big
      }
      if (reply.body.ends_with('}')) {
        // Still the right record, plus a padding member that makes the body 1 MiB.
        constexpr std::string_view key = ",\"padding\":\"";
        const auto fill = big_body_size - reply.body.size() - key.size() - 1;
        reply.body.pop_back();  // the closing '}'
        reply.body += key;
        reply.body.append(fill, 'x');
        reply.body += "\"}";
      } else {
        // An array cannot take a member without changing its records: pad with whitespace,
        // which JSON allows after the value.
        reply.body.append(big_body_size - reply.body.size(), ' ');
      }
      return true;
    }
    default:
      return false;
  }
}

bool sim_distort_json_record(sim_reply& reply, sim_fault fault, std::uint64_t record_draw,
                             std::uint64_t member_draw) {
  if (fault != sim_fault::wrong_types && fault != sim_fault::missing_fields) {
    return false;
  }
  error_code ec;
  auto body = boost::json::parse(reply.body, ec);
  if (ec) {
    return false;
  }
  auto* record = pick_record(body, record_draw);
  if (record == nullptr || record->empty()) {
    return false;
  }
  auto member = record->begin() + static_cast<std::ptrdiff_t>(member_draw % record->size());
  if (fault == sim_fault::missing_fields) {
    record->stable_erase(member);
  } else {
    member->value() = other_type(member->value());
  }
  reply.body = boost::json::serialize(body);
  return true;
}

}  // namespace etl
