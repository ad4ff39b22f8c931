// etl-server's scheduler: starts a task of each pipeline whose spec has a `schedule` (a cron
// expression, UTC) that ETL_SCHEDULES turns on, at each scheduled minute, with the pipeline's
// default parameters. Exactly one task per scheduled time whatever the number of servers: each
// run is triggered with the Idempotency-Key "schedule:<pipeline>:<time>", so a second server's
// trigger of the same run returns the first one's task, and the time is recorded only forward.
// A run not started within ETL_SCHEDULE_GRACE of its time (the servers were down) is skipped
// and recorded as missed, unless the spec asks to catch up (then the latest missed run starts
// once). The first time a schedule is seen it starts nothing: deploying is not a run.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "etl/core/aliases.hpp"
#include "etl/db/schedule_store.hpp"
#include "etl/pipelines/spec.hpp"
#include "etl/server/server_message.hpp"

namespace etl {

struct scheduler_options {
  std::string enabled = "none";  // ETL_SCHEDULES: none, all, or pipeline names with commas
  std::chrono::milliseconds grace{10 * 60'000};
};

// Starts a task: (pipeline, idempotency key) -> the trigger's reply (202 or 200 with task_id).
using start_task_fn =
    std::function<net::awaitable<server_reply>(std::string pipeline, std::string key)>;

class scheduler {
 public:
  scheduler(net::any_io_executor ex, schedule_store& store, const std::vector<pipeline_spec>& specs,
            scheduler_options opts, start_task_fn start);

  // Ticks at each scheduled minute (and at least every 30 s) until stop().
  net::awaitable<void> run();
  void stop();

  // One pass at `now`: records or starts what is due. Returns the tasks started.
  net::awaitable<int> tick(std::chrono::system_clock::time_point now);

  // GET /extractor/schedules: every pipeline with a schedule, whether it is on, its next run
  // and its last one.
  net::awaitable<server_reply> list_reply(std::chrono::system_clock::time_point now);

  // Whether ETL_SCHEDULES turns `pipeline`'s schedule on.
  bool enabled(const std::string& pipeline) const;

 private:
  net::awaitable<void> tick_one(const pipeline_spec& spec, std::chrono::sys_seconds due,
                                const std::optional<schedule_run>& last,
                                std::chrono::system_clock::time_point now, int& started);

  net::any_io_executor ex_;
  schedule_store& store_;
  const std::vector<pipeline_spec>& specs_;
  scheduler_options opts_;
  start_task_fn start_;
  net::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace etl
