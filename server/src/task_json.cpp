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
  o["status_url"] = "/extractor/tasks/" + t.id;
  return o;
}

}  // namespace etl
