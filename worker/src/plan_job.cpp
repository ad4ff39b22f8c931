#include "etl/worker/plan_job.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "etl/source/listing_fetch.hpp"

namespace etl {

std::vector<batch_plan> plan_batches(int total_pages, int page_size, int max_animals) {
  std::vector<batch_plan> plan;
  if (total_pages <= 0)
    return plan;
  const int per_batch = std::max(1, max_animals / std::max(page_size, 1));
  plan.reserve(static_cast<std::size_t>((total_pages + per_batch - 1) / per_batch));
  for (int first = 1, no = 0; first <= total_pages; first += per_batch, ++no) {
    plan.push_back({no, first, std::min(total_pages, first + per_batch - 1)});
  }
  return plan;
}

job_fields batch_job_fields(const std::string& task_id, const batch& b, bool audit) {
  return {{"type", "batch"},
          {"task", task_id},
          {"batch", std::to_string(b.batch_no)},
          {"first_page", std::to_string(b.first_page)},
          {"last_page", std::to_string(b.last_page)},
          {"audit", audit ? "1" : "0"}};
}

net::awaitable<job_outcome> run_plan_job(worker_context& ctx, const job& j) {
  const auto task_id = field(j.fields, "task");
  const bool audit = field(j.fields, "audit") == "1";
  auto status = co_await ctx.tasks().get_status(task_id);
  if (!status)
    co_return job_outcome::db_failure("plan: task status", status.error());
  if (is_finished(*status))
    co_return job_outcome::done();

  auto first = co_await fetch_listing_page(ctx.source(), 1);
  if (!first.page)
    co_return job_outcome::retry("plan: " + first.failure);
  const auto& page = first.page;
  if (page->total_pages > max_total_pages) {
    const auto reason = "the source lists " + std::to_string(page->total_pages) +
                        " pages, more than the " + std::to_string(max_total_pages) +
                        " a task can plan";
    auto failed = co_await ctx.tasks().fail_task(task_id, reason);
    if (!failed)
      co_return job_outcome::db_failure("plan: fail task", failed.error());
    spdlog::error("task {}: {}", task_id, reason);
    co_return job_outcome::done();
  }
  const auto total_pages = static_cast<int>(page->total_pages);
  // Today's page size is 10; read it from page 1 so that batches keep to 100 animals if the
  // source changes it. An empty page 1 of a non-empty listing says nothing: assume 10.
  const int page_size = static_cast<int>(page->items.size() + page->rejected.size());
  auto plan = plan_batches(total_pages, page_size > 0 ? page_size : 10);

  auto started = co_await ctx.tasks().start_task(task_id, total_pages, std::move(plan), j.id);
  if (!started)
    co_return job_outcome::db_failure("plan: start task", started.error());
  if (started->planned_elsewhere) {
    spdlog::info("task {}: planned by another plan job already; job {} enqueues nothing", task_id,
                 j.id);
    co_return job_outcome::done();
  }
  if (started->status != task_status::running)
    co_return job_outcome::done();
  int enqueued = 0;
  for (const auto& b : started->batches) {
    if (is_finished(b.state))
      continue;
    auto id = co_await ctx.queue().enqueue(batch_job_fields(task_id, b, audit));
    if (!id)
      co_return job_outcome::retry("plan: enqueue batch " + std::to_string(b.batch_no) + ": " +
                                   id.error().message());
    ++enqueued;
  }
  spdlog::info("task {}: {} pages, {} batches enqueued", task_id, total_pages, enqueued);
  co_return job_outcome::done();
}

}  // namespace etl
