// What etl-server's scheduler keeps in Postgres: per pipeline, the latest scheduled time it has
// dealt with (a task started, or the run skipped) and that task. Times only move forward, so two
// servers recording the same run leave one row as either would.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "etl/core/aliases.hpp"
#include "etl/db/db_pool.hpp"

namespace etl {

struct schedule_run {
  std::string pipeline;
  std::chrono::sys_seconds due;     // the scheduled time (UTC)
  std::optional<std::string> task;  // the task started for it; none when skipped
  std::string note;                 // why it was skipped ("missed", "first seen"), or empty
};

class schedule_store {
 public:
  explicit schedule_store(db_pool& db) noexcept : db_(&db) {}

  // Every pipeline's last run, by pipeline name. Errors: those of db_pool::run.
  net::awaitable<result<std::vector<schedule_run>>> runs();

  // Records `run` unless a run of the same or a later time is recorded already; returns whether
  // it was recorded. Errors: those of db_pool::run.
  net::awaitable<result<bool>> record(schedule_run run);

 private:
  db_pool* db_;
};

}  // namespace etl
