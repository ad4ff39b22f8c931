// The queries of the paged lists, read without any store: `limit` and the opaque `cursor` of
// GET /extractor/tasks and GET /extractor/tasks/{id}/rejected. A cursor handed to clients is
// base64url (no padding) of where the page before ended: "<created_at in epoch microseconds>:
// <task id>" for tasks, "r:<row>" for rejected records; a client pages with
// `cursor=<next_cursor>` and never builds one itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "etl/db/tasks_repository.hpp"
#include "etl/server/server_message.hpp"

namespace etl {

inline constexpr int default_task_list_limit = 20;
inline constexpr int max_task_list_limit = 100;

struct task_list_params {
  int limit = default_task_list_limit;  // 1 to max_task_list_limit
  std::optional<task_cursor> after;
  std::optional<std::string> pipeline;  // only this pipeline's tasks
};

struct rejected_list_params {
  int limit = default_task_list_limit;  // 1 to max_task_list_limit
  std::int64_t after = 0;               // the last row of the page before; 0 from the start
};

// The opaque text of a cursor.
std::string encode_task_cursor(const task_cursor& c);
// The cursor behind `text`; nullopt when it is not one encode_task_cursor made (bad base64url,
// no ':', a time that is not a non-negative integer, an id that is not a uuid).
std::optional<task_cursor> decode_task_cursor(std::string_view text);

// The list's parameters from the query string (after '?'). Fails with the 400 reply naming the
// parameter: a limit outside 1..100, a bad cursor, an unknown parameter.
std::variant<task_list_params, server_reply> read_task_list_params(std::string_view query);

// A rejected-records cursor and its reverse (nullopt for text encode_rejected_cursor did not
// make).
std::string encode_rejected_cursor(std::int64_t row);
std::optional<std::int64_t> decode_rejected_cursor(std::string_view text);

// The rejected list's parameters, with the same rules as read_task_list_params.
std::variant<rejected_list_params, server_reply> read_rejected_list_params(std::string_view query);

}  // namespace etl
