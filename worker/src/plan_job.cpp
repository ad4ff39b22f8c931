#include "etl/worker/plan_job.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "etl/jobs/batch_message.hpp"
#include "etl/jobs/plan_message.hpp"
#include "etl/pipelines/params.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/rest_source.hpp"
#include "etl/source/listing_fetch.hpp"
#include "etl/worker/pipeline_batch.hpp"

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

namespace {

// What the listing says before batches are planned: how many pages, and how many records a
// full page holds. `failure` set: the count could not be read (the job is handed back).
struct page_count {
  std::int64_t total_pages = 0;
  int page_size = 0;
  std::string failure;
  bool refused = false;  // the upstream refused the credentials: no retry will do
};

// The animals listing: page 1 gives total_pages; its length gives the page size.
net::awaitable<page_count> count_listing_pages(worker_context& ctx) {
  auto first = co_await fetch_listing_page(ctx.source(), 1);
  if (!first.page)
    co_return page_count{0, 0, "plan: " + first.failure};
  // Today's page size is 10; read it from page 1 so that batches keep to 100 animals if the
  // source changes it. An empty page 1 of a non-empty listing says nothing: assume 10.
  const int page_size = static_cast<int>(first.page->items.size() + first.page->rejected.size());
  co_return page_count{first.page->total_pages, page_size > 0 ? page_size : 10, {}};
}

// A spec's paginator: a single request is one page; a page_number listing's first page holds
// the page count, the spec the page size.
net::awaitable<page_count> count_rest_pages(worker_context& ctx, const pipeline_spec& spec,
                                            const json::object& params) {
  if (const auto windows = window_range_of(spec, params)) {
    // A windowed pipeline's batches are its day windows, one each (its "pages": run_pipeline_batch
    // reads every page of a window from the window's first answer).
    co_return page_count{windows->days, 1, {}};
  }
  if (spec.source.paginator.kind == paginator_kind::single)
    co_return page_count{1, 1, {}};
  if (spec.source.paginator.chained()) {
    // A chain: the first batch is planned, each batch adds the next while pages remain.
    co_return page_count{1, spec.source.paginator.page_size, {}};
  }
  if (!spec.source.paginator.pages_param.empty()) {
    // The trigger's parameter says how many pages (checked against its min and max).
    const auto* pages = params.if_contains(spec.source.paginator.pages_param);
    co_return page_count{pages != nullptr && pages->is_int64() ? pages->get_int64() : 1,
                         spec.source.paginator.page_size,
                         {}};
  }
  const auto up = ctx.upstream_of(spec);
  // A named value, not a temporary in the co_await's arguments: GCC 12 frees such a temporary
  // holding strings twice.
  const request_values first_page{spec.source.paginator.first_page, params, {}, {}};
  auto first =
      co_await fetch_rest_page(*up.client, spec.source, up.base_path, first_page, up.credentials);
  if (!first)
    co_return page_count{0, 0, "plan: " + first.error().what, first.error().refused};
  co_return page_count{first->total_pages.value_or(0), spec.source.paginator.page_size, {}};
}

// An incremental task's start: the trigger's start parameter (a backfill, which leaves the
// cursor alone), else the pipeline's stored cursor with the keys delivered at it, else the
// spec's initial value.
net::awaitable<result<incremental_start>> cursor_for(worker_context& ctx, const pipeline_spec& spec,
                                                     const json::object& params) {
  const auto& inc = *spec.incremental;
  if (!inc.start_param.empty()) {
    if (const auto* given = params.if_contains(inc.start_param); given && given->is_string())
      co_return incremental_start{std::string(given->get_string()), {}, false};
  }
  auto stored = co_await ctx.cursors().load(spec.name);
  if (!stored)
    co_return stored.error();
  if (!*stored)
    co_return incremental_start{inc.initial, {}, true};
  co_return incremental_start{std::move((*stored)->value), std::move((*stored)->keys), true};
}

// Records a batch holds at most: what one POST takes for an http_batch sink; for the others a
// size that keeps a batch's transaction and files small.
int records_per_batch(const pipeline_spec& spec) {
  const auto& sink = spec.sinks.front();
  if (spec.windows)
    return 1;  // one window per batch, with page_size 1
  if (spec.one_batch_per_task())
    return std::numeric_limits<int>::max();
  return sink.kind == sink_kind::http_batch ? sink.max_records : 1'000;
}

}  // namespace

net::awaitable<job_outcome> run_plan_job(worker_context& ctx, const job& j) {
  auto message = decode_plan_message(j.fields);
  if (!message)
    co_return job_outcome::retry(message.error().message);
  const auto& task_id = message->task_id;
  const bool audit = message->audit;
  const auto* spec = ctx.pipeline(message->pipeline);
  if (spec == nullptr) {
    // Another worker of the pool may know it (its own ETL_PIPELINES_DIR): hand it back.
    co_return job_outcome::retry("plan: pipeline " + message->pipeline +
                                 " is not one of this worker's");
  }
  auto found = co_await ctx.tasks().get_task(task_id);
  if (!found)
    co_return job_outcome::db_failure("plan: read task", found.error());
  if (!*found || is_finished((*found)->status))
    co_return job_outcome::done();
  const auto& params = (*found)->params;
  if (spec->sinks.front().kind != sink_kind::http_batch) {
    // A secret missing from this worker's environment: no retry would find it, so the task
    // fails at once with the reason, which names the variable.
    const auto up = ctx.upstream_of(*spec);
    if (!up.access_error.empty()) {
      auto failed = co_await ctx.tasks().fail_task(task_id, up.access_error);
      if (!failed)
        co_return job_outcome::db_failure("plan: fail task", failed.error());
      spdlog::error("task {}: {}", task_id, up.access_error);
      co_return job_outcome::done();
    }
  }
  if (auto secrets = secrets_of(*spec); !secrets) {
    // Hashing without the salt would write secrets in clear: the task fails now, named why.
    auto failed = co_await ctx.tasks().fail_task(task_id, secrets.error());
    if (!failed)
      co_return job_outcome::db_failure("plan: fail task", failed.error());
    spdlog::error("task {}: {}", task_id, secrets.error());
    co_return job_outcome::done();
  }
  const auto task_date = date_text(utc_day((*found)->created_at));
  if (spec->incremental) {
    // Fixed once, before any batch runs: every batch of the task reads from the same start.
    auto start = co_await cursor_for(ctx, *spec, params);
    if (!start)
      co_return job_outcome::db_failure("plan: read cursor", start.error());
    auto fixed = co_await ctx.cursors().fix_for_task(task_id, std::move(*start));
    if (!fixed)
      co_return job_outcome::db_failure("plan: fix cursor", fixed.error());
    spdlog::info("task {}: reads {} from {}{}", task_id, spec->name, fixed->start,
                 fixed->advances ? "" : " (a backfill: the cursor stays)");
  }

  // Not one ?: with a co_await on each side: GCC 12 destroys such a temporary twice.
  page_count count;
  if (spec->sinks.front().kind == sink_kind::http_batch)
    count = co_await count_listing_pages(ctx);
  else
    count = co_await count_rest_pages(ctx, *spec, params);
  if (count.refused) {
    auto failed = co_await ctx.tasks().fail_task(task_id, count.failure);
    if (!failed)
      co_return job_outcome::db_failure("plan: fail task", failed.error());
    spdlog::error("task {}: {}", task_id, count.failure);
    co_return job_outcome::done();
  }
  if (!count.failure.empty())
    co_return job_outcome::retry(count.failure);
  if (count.total_pages > max_total_pages) {
    const auto reason = "the source lists " + std::to_string(count.total_pages) +
                        " pages, more than the " + std::to_string(max_total_pages) +
                        " a task can plan";
    auto failed = co_await ctx.tasks().fail_task(task_id, reason);
    if (!failed)
      co_return job_outcome::db_failure("plan: fail task", failed.error());
    spdlog::error("task {}: {}", task_id, reason);
    co_return job_outcome::done();
  }
  const auto total_pages = static_cast<int>(count.total_pages);
  auto plan = plan_batches(total_pages, count.page_size, records_per_batch(*spec));

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
  const auto params_text = json::serialize(params);
  int enqueued = 0;
  for (const auto& b : started->batches) {
    if (is_finished(b.state))
      continue;
    auto fields = encode(batch_message{task_id, b.batch_no, b.first_page, b.last_page, audit,
                                       spec->name, params_text, task_date});
    auto id = co_await ctx.queue().enqueue(std::move(fields));
    if (!id)
      co_return job_outcome::retry("plan: enqueue batch " + std::to_string(b.batch_no) + ": " +
                                   id.error().message());
    ++enqueued;
  }
  spdlog::info("task {}: {} pages, {} batches enqueued", task_id, total_pages, enqueued);
  co_return job_outcome::done();
}

}  // namespace etl
