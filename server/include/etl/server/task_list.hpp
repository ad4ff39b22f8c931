// GET /extractor/tasks: the recent tasks, newest first, a page at a time (the parameters and
// the cursor: task_list_query.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "etl/db/tasks_repository.hpp"
#include "etl/server/http_server.hpp"
#include "etl/server/task_list_query.hpp"

namespace etl {

// Answers GET /extractor/tasks with validated parameters: 200 {"tasks": [...], "next_cursor":
// text or null}; 503 when the database does not answer.
net::awaitable<server_reply> list_tasks_reply(tasks_repository& tasks, task_list_params params);

}  // namespace etl
