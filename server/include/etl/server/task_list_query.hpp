// The query of GET /extractor/tasks, read without any store: `limit` and the opaque `cursor`.
// The cursor handed to clients is base64url (no padding) of
// "<created_at in epoch microseconds>:<task id>", the last task of the page before, so a client
// pages with `cursor=<next_cursor>` and never builds one itself.
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
};

// The opaque text of a cursor.
std::string encode_task_cursor(const task_cursor& c);
// The cursor behind `text`; nullopt when it is not one encode_task_cursor made (bad base64url,
// no ':', a time that is not a non-negative integer, an id that is not a uuid).
std::optional<task_cursor> decode_task_cursor(std::string_view text);

// The list's parameters from the query string (after '?'). Fails with the 400 reply naming the
// parameter: a limit outside 1..100, a bad cursor, an unknown parameter.
std::variant<task_list_params, server_reply> read_task_list_params(std::string_view query);

}  // namespace etl
