#include "etl/server/rejected_list.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace etl {
namespace {

boost::json::object entry_json(const rejected_entry& e) {
  boost::json::object o;
  if (e.animal_id) {
    o["animal_id"] = *e.animal_id;
  } else {
    o["animal_id"] = nullptr;
  }
  o["batch"] = e.batch_no;
  o["reason"] = e.reason;
  if (e.raw) {
    o["raw"] = *e.raw;
  } else {
    o["raw"] = nullptr;
  }
  return o;
}

server_reply page_reply(const std::string& task_id, const rejected_entries& page) {
  boost::json::array records;
  records.reserve(page.records.size());
  for (const auto& e : page.records)
    records.emplace_back(entry_json(e));
  boost::json::object o;
  o["task_id"] = task_id;
  o["rejected"] = std::move(records);
  if (page.next) {
    o["next_cursor"] = encode_rejected_cursor(*page.next);
  } else {
    o["next_cursor"] = nullptr;
  }
  return server_reply{200, "application/json", boost::json::serialize(o), {}};
}

}  // namespace

net::awaitable<server_reply> rejected_list_reply(tasks_repository& tasks, std::string task_id,
                                                 rejected_list_params params) {
  auto page = co_await tasks.list_rejected(task_id, params.limit, params.after);
  if (!page) {
    spdlog::error("rejected records of task {}: {}", task_id, page.error().message());
    co_return json_error(503, "database_unavailable",
                         "could not read the rejected records; try again");
  }
  if (!*page)
    co_return json_error(404, "task_not_found", "no task " + task_id);
  co_return page_reply(task_id, **page);
}

}  // namespace etl
