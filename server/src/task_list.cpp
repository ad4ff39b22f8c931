#include "etl/server/task_list.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "etl/server/task_json.hpp"

namespace etl {
namespace {

server_reply json_reply(unsigned status, const boost::json::value& v) {
  return server_reply{status, "application/json", boost::json::serialize(v), {}};
}

server_reply page_reply(const task_page& page) {
  boost::json::array tasks;
  tasks.reserve(page.tasks.size());
  for (const auto& t : page.tasks)
    tasks.emplace_back(task_to_json(t));
  boost::json::object o;
  o["tasks"] = std::move(tasks);
  if (page.next) {
    o["next_cursor"] = encode_task_cursor(*page.next);
  } else {
    o["next_cursor"] = nullptr;
  }
  return json_reply(200, o);
}

}  // namespace

net::awaitable<server_reply> list_tasks_reply(tasks_repository& tasks, task_list_params p) {
  auto page = co_await tasks.list_tasks(p.limit, std::move(p.after), std::move(p.pipeline));
  if (!page) {
    spdlog::error("list tasks: {}", page.error().message());
    co_return json_error(503, "database_unavailable", "could not list the tasks; try again");
  }
  co_return page_reply(*page);
}

}  // namespace etl
