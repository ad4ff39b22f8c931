// GET /extractor/tasks: the recent tasks, newest first, a page at a time. The cursor handed to
// clients is opaque: base64url (no padding) of "<created_at in epoch microseconds>:<task id>",
// the last task of the page before, so a client pages with `cursor=<next_cursor>` and never
// builds one itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "etl/db/tasks_repository.hpp"
#include "etl/server/http_server.hpp"

namespace etl {

inline constexpr int default_task_list_limit = 20;
inline constexpr int max_task_list_limit = 100;

// The opaque text of a cursor.
std::string encode_task_cursor(const task_cursor& c);
// The cursor behind `text`; nullopt when it is not one encode_task_cursor made (bad base64url,
// no ':', a time that is not a non-negative integer, an id that is not a uuid).
std::optional<task_cursor> decode_task_cursor(std::string_view text);

// Answers GET /extractor/tasks?limit=N&cursor=C: 200 {"tasks": [...], "next_cursor": text or
// null}. 400 naming the parameter for a limit outside 1..100, a bad cursor or an unknown
// parameter; 503 when the database does not answer.
net::awaitable<server_reply> list_tasks_reply(tasks_repository& tasks, std::string query);

}  // namespace etl
