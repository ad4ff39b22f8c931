// How a task looks in the HTTP API: the JSON of GET /extractor/tasks/{id} and of the task list.
#pragma once

#include <boost/json/object.hpp>

#include "etl/db/task_model.hpp"

namespace etl {

// {"task_id", "status", "audit_mode", "created_at", "started_at", "finished_at",
//  "total_pages", "batches": {"total", "done", "failed"}, "counts": {...}, "errors": [...],
//  "status_url"}; timestamps in ISO 8601 UTC with milliseconds, or null.
boost::json::object task_to_json(const task& t);

}  // namespace etl
