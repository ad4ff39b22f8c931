#include "etl/server/scheduler.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "etl/core/error.hpp"

namespace etl {
namespace {

using namespace std::chrono;
namespace js = boost::json;

std::string iso(sys_seconds t) {
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss hms(t - day);
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return out;
}

sys_minutes minute_of(system_clock::time_point t) {
  return floor<minutes>(t);
}

}  // namespace

scheduler::scheduler(net::any_io_executor ex, schedule_store& store,
                     const std::vector<pipeline_spec>& specs, scheduler_options opts,
                     start_task_fn start)
    : ex_(ex),
      store_(store),
      specs_(specs),
      opts_(std::move(opts)),
      start_(std::move(start)),
      timer_(ex) {}

bool scheduler::enabled(const std::string& pipeline) const {
  if (opts_.enabled == "all")
    return true;
  std::string_view list = opts_.enabled;
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name == pipeline)
      return true;
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

net::awaitable<void> scheduler::tick_one(const pipeline_spec& spec, sys_seconds due,
                                         const std::optional<schedule_run>& last,
                                         system_clock::time_point now, int& started) {
  schedule_run run{spec.name, due, std::nullopt, {}};
  if (!last) {
    run.note = "first seen";
    spdlog::info("schedule of {} ({}): seen for the first time; its next run starts the first",
                 spec.name, spec.schedule->cron.text);
  } else if (now - due > opts_.grace && !spec.schedule->catch_up) {
    run.note = "missed";
    spdlog::warn("schedule of {}: the run of {} was missed by more than the grace; skipped",
                 spec.name, iso(due));
  } else {
    const auto key = "schedule:" + spec.name + ":" + iso(due);
    auto reply = co_await start_(spec.name, key);
    if (reply.status != 202 && reply.status != 200) {
      // Not recorded: the next tick tries again while the run is within its grace.
      spdlog::error("schedule of {}: the run of {} could not start: {} {}", spec.name, iso(due),
                    reply.status, reply.body);
      co_return;
    }
    boost::system::error_code ec;
    const auto body = js::parse(reply.body, ec);
    if (!ec && body.is_object() && body.as_object().contains("task_id"))
      run.task = std::string(body.at("task_id").as_string());
    ++started;
    spdlog::info("schedule of {}: the run of {} is task {}", spec.name, iso(due),
                 run.task.value_or("?"));
  }
  if (auto recorded = co_await store_.record(std::move(run)); !recorded)
    spdlog::error("schedule of {}: record: {}", spec.name, recorded.error().message());
}

net::awaitable<int> scheduler::tick(system_clock::time_point now) {
  int started = 0;
  auto runs = co_await store_.runs();
  if (!runs) {
    spdlog::error("schedules: read: {}", runs.error().message());
    co_return 0;
  }
  for (const auto& spec : specs_) {
    if (!spec.schedule || !enabled(spec.name))
      continue;
    const auto due = spec.schedule->cron.last_at_or_before(minute_of(now));
    if (!due)
      continue;
    const auto due_s = time_point_cast<seconds>(*due);
    const auto it = std::find_if(runs->begin(), runs->end(),
                                 [&](const schedule_run& r) { return r.pipeline == spec.name; });
    std::optional<schedule_run> last;
    if (it != runs->end())
      last = *it;
    if (last && last->due >= due_s)
      continue;
    co_await tick_one(spec, due_s, last, now, started);
  }
  co_return started;
}

net::awaitable<void> scheduler::run() {
  while (!stopped_) {
    const auto now = system_clock::now();
    co_await tick(now);
    // Until the next scheduled minute of any enabled schedule (a second into it), at most 30 s.
    auto wait = duration_cast<milliseconds>(seconds(30));
    for (const auto& spec : specs_) {
      if (!spec.schedule || !enabled(spec.name))
        continue;
      if (const auto next = spec.schedule->cron.next_after(minute_of(now))) {
        const auto until = duration_cast<milliseconds>(*next - now) + milliseconds(1'000);
        wait = std::min(wait, std::max(until, milliseconds(0)));
      }
    }
    timer_.expires_after(wait);
    error_code ec;
    co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

void scheduler::stop() {
  stopped_ = true;
  timer_.cancel();
}

net::awaitable<server_reply> scheduler::list_reply(system_clock::time_point now) {
  auto runs = co_await store_.runs();
  if (!runs) {
    co_return server_reply{
        503,
        "application/json",
        R"({"error":"database_unavailable","detail":"could not read the schedules"})",
        {}};
  }
  js::array list;
  for (const auto& spec : specs_) {
    if (!spec.schedule)
      continue;
    js::object o{{"pipeline", spec.name},
                 {"cron", spec.schedule->cron.text},
                 {"enabled", enabled(spec.name)},
                 {"catch_up", spec.schedule->catch_up}};
    const auto next = spec.schedule->cron.next_after(minute_of(now));
    o["next_run"] = next ? js::value(iso(time_point_cast<seconds>(*next))) : js::value(nullptr);
    o["last_run"] = nullptr;
    for (const auto& r : *runs) {
      if (r.pipeline != spec.name)
        continue;
      o["last_run"] = js::object{{"at", iso(r.due)},
                                 {"task_id", r.task ? js::value(*r.task) : js::value(nullptr)},
                                 {"note", r.note}};
    }
    list.push_back(std::move(o));
  }
  co_return server_reply{
      200, "application/json", js::serialize(js::object{{"schedules", std::move(list)}}), {}};
}

}  // namespace etl
