// GET /extractor/tasks/{id}/rejected: the records a task's workers rejected as bad upstream data
// (docs/architecture.md: rejected with a reason, never posted), in the order recorded, a page at a
// time (the parameters and the cursor: task_list_query.hpp). What a data engineer reads to see why
// the task's `rejected` count is not zero.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "etl/db/tasks_repository.hpp"
#include "etl/server/http_server.hpp"
#include "etl/server/task_list_query.hpp"

namespace etl {

// Answers with validated parameters: 200 {"task_id", "rejected": [{"animal_id" (null when the
// record had no readable id), "batch", "reason", "raw"}], "next_cursor": text or null}; 404 for an
// unknown task; 503 when the database does not answer.
net::awaitable<server_reply> rejected_list_reply(tasks_repository& tasks, std::string task_id,
                                                 rejected_list_params params);

}  // namespace etl
