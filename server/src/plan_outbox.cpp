#include "etl/server/plan_outbox.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/jobs/plan_message.hpp"

namespace etl {

net::awaitable<result<std::string>> enqueue_plan(tasks_repository& tasks, job_queue& queue,
                                                 const std::string& task_id, bool audit,
                                                 const std::string& pipeline) {
  auto fields = encode(plan_message{task_id, audit, pipeline});
  auto id = co_await queue.enqueue(std::move(fields));
  if (!id)
    co_return id.error();
  if (auto marked = co_await tasks.mark_plan_enqueued(task_id, *id); !marked) {
    spdlog::warn(
        "task {}: its plan job {} is queued but could not be marked so ({}); the outbox "
        "sweep may queue another, which plans nothing",
        task_id, *id, marked.error().message());
  }
  co_return std::move(*id);
}

plan_outbox_sweep::plan_outbox_sweep(net::any_io_executor ex, tasks_repository& tasks,
                                     job_queue& queue, std::chrono::milliseconds every,
                                     std::chrono::milliseconds older_than)
    : tasks_(tasks), queue_(queue), every_(every), older_than_(older_than), timer_(ex) {}

net::awaitable<result<int>> plan_outbox_sweep::sweep_once() {
  auto found = co_await tasks_.unqueued_plans(older_than_, 100);
  if (!found)
    co_return found.error();
  int queued = 0;
  for (const auto& t : *found) {
    auto id = co_await enqueue_plan(tasks_, queue_, t.task_id, t.audit_mode, t.pipeline);
    if (!id)
      co_return id.error();
    spdlog::warn(
        "task {}: queued but its plan job was never enqueued (its trigger's server "
        "stopped or lost Redis); enqueued now as {}",
        t.task_id, *id);
    ++queued;
  }
  co_return queued;
}

net::awaitable<void> plan_outbox_sweep::run() {
  while (!stopping_) {
    timer_.expires_after(every_);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    if (stopping_)
      break;
    if (auto r = co_await sweep_once(); !r)
      spdlog::warn("plan outbox sweep: {}", r.error().message());
  }
}

void plan_outbox_sweep::stop() {
  stopping_ = true;
  net::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

}  // namespace etl
