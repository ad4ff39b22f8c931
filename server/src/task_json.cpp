#include "etl/server/task_json.hpp"

#include "etl/animal/transform.hpp"

namespace etl {
namespace {

boost::json::value time_json(const std::optional<db_time>& t) {
  if (!t)
    return nullptr;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch());
  return boost::json::value(format_iso8601_ms(ms.count()));
}

// The batches' quality (checks.hpp's batch_quality, one object a batch) summed for the task:
// records, nulls per field, and per check the failing records and the first example.
boost::json::object quality_json(const boost::json::array& batches) {
  std::int64_t records = 0;
  boost::json::object nulls;
  boost::json::array checks;
  for (const auto& b : batches) {
    const auto& q = b.as_object();
    records += q.at("records").to_number<std::int64_t>();
    for (const auto& [field, n] : q.at("nulls").as_object()) {
      auto& sum = nulls[field];
      sum = (sum.is_null() ? 0 : sum.to_number<std::int64_t>()) + n.to_number<std::int64_t>();
    }
    const auto& list = q.at("checks").as_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& c = list[i].as_object();
      if (i >= checks.size()) {
        checks.push_back(c);
        continue;
      }
      auto& total = checks[i].as_object();
      const auto failing =
          total.at("failing").to_number<std::int64_t>() + c.at("failing").to_number<std::int64_t>();
      total["failing"] = failing;
      total["passed"] = failing == 0;
      if (total.at("example").as_string().empty())
        total["example"] = c.at("example");
    }
  }
  return {{"batches", batches.size()},
          {"records", records},
          {"nulls", std::move(nulls)},
          {"checks", std::move(checks)}};
}

}  // namespace

boost::json::object task_to_json(const task& t) {
  boost::json::object o;
  o["task_id"] = t.id;
  o["status"] = to_string(t.status);
  o["pipeline"] = t.pipeline;
  o["params"] = t.params;
  o["audit_mode"] = t.audit_mode;
  o["created_at"] = time_json(t.created_at);
  o["started_at"] = time_json(t.started_at);
  o["finished_at"] = time_json(t.finished_at);
  o["updated_at"] = time_json(t.updated_at);
  if (t.total_pages) {
    o["total_pages"] = *t.total_pages;
  } else {
    o["total_pages"] = nullptr;
  }
  o["batches"] = {
      {"total", t.batches_total}, {"done", t.batches_done}, {"failed", t.batches_failed}};
  const auto& c = t.counters;
  o["counts"] = {{"pages", c.pages},       {"fetched", c.fetched},      {"posted", c.posted},
                 {"rejected", c.rejected}, {"retries", c.retries},      {"hedges", c.hedges},
                 {"in_doubt", c.in_doubt}, {"duplicates", c.duplicates}};
  o["errors"] = t.errors;
  if (!t.quality.empty())
    o["quality"] = quality_json(t.quality);
  if (!t.sinks.empty())
    o["sinks"] = t.sinks;
  if (t.cursor_start) {
    o["cursor"] = {{"start", *t.cursor_start},
                   {"advances", t.cursor_advances},
                   {"after", t.cursor_after ? json::value(*t.cursor_after) : json::value(nullptr)}};
  }
  o["status_url"] = "/extractor/tasks/" + t.id;
  return o;
}

}  // namespace etl
