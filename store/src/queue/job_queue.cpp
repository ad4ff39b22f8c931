#include "etl/queue/job_queue.hpp"

#include <algorithm>
#include <cstdlib>

#include <unistd.h>

#include <charconv>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "etl/core/blocking.hpp"
#include "etl/core/error.hpp"
#include "etl/core/text.hpp"

namespace etl {
namespace {

// Milliseconds from the time in stream entry id `id` ("<ms>-<seq>") to Redis's TIME answer
// ([seconds, microseconds]); 0 when either does not parse or the id is in the future.
std::int64_t entry_age_ms(const std::string& id, const redis_reply& time) {
  std::int64_t id_ms = 0;
  const auto dash = id.find('-');
  if (auto [end, ec] = std::from_chars(id.data(), id.data() + std::min(dash, id.size()), id_ms);
      ec != std::errc{}) {
    return 0;
  }
  if (!time.is_array() || time.elements.size() != 2 || !time.elements[0].is_text() ||
      !time.elements[1].is_text()) {
    return 0;
  }
  std::int64_t sec = 0, usec = 0;
  const auto& s = time.elements[0].str;
  const auto& u = time.elements[1].str;
  if (std::from_chars(s.data(), s.data() + s.size(), sec).ec != std::errc{} ||
      std::from_chars(u.data(), u.data() + u.size(), usec).ec != std::errc{}) {
    return 0;
  }
  return std::max<std::int64_t>(sec * 1000 + usec / 1000 - id_ms, 0);
}

// Renews the leases of the ids in ARGV[3..] that `consumer` (ARGV[2]) still owns in `group`
// (ARGV[1]) and returns them. Checking the owner first matters: a bare XCLAIM would take back a
// job another consumer reclaimed while this one stalled, and two workers would run it at once.
// One script, so no reclaim can slip in between the check and the claim.
constexpr const char* renew_script = R"lua(
local kept = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept[#kept + 1] = ARGV[i]
  end
end
return kept
)lua";

std::string default_consumer() {
  static std::atomic<int> counter{0};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) {
    std::snprintf(host, sizeof host, "unknown-host");
  }
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(++counter);
}

job_queue_options checked(job_queue_options opts) {
  if (opts.stream.empty() || opts.group.empty() || opts.dead_letter_stream.empty()) {
    throw std::invalid_argument("job_queue: stream, group and dead-letter stream must be named");
  }
  if (opts.lease < std::chrono::milliseconds{30}) {
    throw std::invalid_argument("job_queue: lease must be at least 30 ms");
  }
  if (opts.max_deliveries < 1) {
    throw std::invalid_argument("job_queue: max_deliveries must be at least 1");
  }
  if (opts.block < std::chrono::milliseconds{0}) {
    throw std::invalid_argument("job_queue: block time must not be negative");
  }
  if (opts.threads == 0) {
    throw std::invalid_argument("job_queue: needs at least one thread");
  }
  if (opts.consumer.empty()) {
    opts.consumer = default_consumer();
  }
  return opts;
}

// A transaction's EXEC answer: an array with one answer per queued command, none an error.
error_code check_exec(const std::vector<redis_reply>& replies, std::size_t commands,
                      std::string_view what) {
  for (const auto& r : replies) {
    if (r.is_error()) {
      spdlog::warn("job queue: {}: {}", what, r.str);
      return redis_errc::server_error;
    }
  }
  const auto& exec = replies.back();
  if (!exec.is_array() || exec.elements.size() != commands) {
    spdlog::warn("job queue: {}: transaction not executed", what);
    return redis_errc::unexpected_reply;
  }
  for (const auto& r : exec.elements) {
    if (r.is_error()) {
      spdlog::warn("job queue: {}: {}", what, r.str);
      return redis_errc::server_error;
    }
  }
  return {};
}

template <class T>
error_code error_of(const result<T>& r) {
  return r ? error_code{} : r.error();
}

// Runs `f` again, once, when it failed with connection_lost: a connection Redis closed while it
// sat idle (a restart) fails the first command written on it, and the retry reconnects. Only
// for work that is safe to repeat.
template <class F>
auto once_more_if_lost(F f) {
  auto r = f();
  if (error_of(r) == redis_errc::connection_lost) {
    r = f();
  }
  return r;
}

error_code server_error(const redis_reply& r, std::string_view what) {
  spdlog::warn("job queue: {}: {}", what, r.str);
  return redis_errc::server_error;
}

}  // namespace

job_queue::job_queue(redis_options redis, job_queue_options opts)
    : opts_(checked(std::move(opts))),
      read_conn_(redis),
      cmd_conn_(redis),
      renew_conn_(redis),
      pool_(opts_.threads) {
  renewer_ = std::thread([this] { renew_loop(); });
}

job_queue::~job_queue() {
  {
    std::lock_guard lock(held_mutex_);
    stopping_ = true;
  }
  renew_cv_.notify_all();
  renewer_.join();
  pool_.join();
}

error_code job_queue::ensure_group(redis_connection& conn, bool force) {
  if (!force && group_ready_.load()) {
    return {};
  }
  // From id 0, not $: jobs added before the group existed (after a restart that lost it) are
  // still delivered.
  auto r = conn.command({"XGROUP", "CREATE", opts_.stream, opts_.group, "0", "MKSTREAM"});
  if (!r) {
    return r.error();
  }
  if (r->is_error() && !r->error_is("BUSYGROUP")) {
    return server_error(*r, "XGROUP CREATE");
  }
  group_ready_ = true;
  return {};
}

result<std::string> job_queue::enqueue_blocking(const job_fields& fields) {
  if (fields.empty()) {
    return make_error_code(errc::invalid_argument);
  }
  if (auto ec = ensure_group(cmd_conn_, false)) {
    return ec;
  }
  std::vector<std::string> args{"XADD", opts_.stream, "*"};
  for (const auto& [k, v] : fields) {
    args.push_back(k);
    args.push_back(v);
  }
  auto r = cmd_conn_.command(args);
  if (!r) {
    return r.error();
  }
  if (r->is_error()) {
    return server_error(*r, "XADD");
  }
  if (!r->is_text()) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  return std::move(r->str);
}

result<next_result> job_queue::next_blocking(std::size_t max_jobs) {
  if (max_jobs == 0) {
    return make_error_code(errc::invalid_argument);
  }
  std::lock_guard lock(read_mutex_);
  // Repeating is safe: a read whose answer was lost leaves its jobs pending under this
  // consumer, unrenewed, so they are reclaimed after the lease.
  auto got = once_more_if_lost([&]() -> result<next_result> {
    if (auto ec = ensure_group(read_conn_, false)) {
      return ec;
    }
    auto r = reclaim(max_jobs);
    if (r && r->jobs.empty() && r->dead.empty()) {
      r = read_new(max_jobs);
    }
    return r;
  });
  if (got) {
    std::lock_guard held_lock(held_mutex_);
    for (const auto& j : got->jobs) {
      held_.insert(j.id);
    }
  }
  return got;
}

result<next_result> job_queue::reclaim(std::size_t max_jobs) {
  auto claim = [&] {
    return read_conn_.command({"XAUTOCLAIM", opts_.stream, opts_.group, opts_.consumer,
                               std::to_string(opts_.lease.count()), autoclaim_cursor_, "COUNT",
                               std::to_string(max_jobs)});
  };
  auto r = claim();
  if (r && r->error_is("NOGROUP")) {
    if (auto ec = ensure_group(read_conn_, true)) {
      return ec;
    }
    autoclaim_cursor_ = "0-0";
    r = claim();
  }
  if (!r) {
    return r.error();
  }
  if (r->is_error()) {
    return server_error(*r, "XAUTOCLAIM");
  }
  auto claimed = parse_autoclaim_reply(*r);
  if (!claimed) {
    spdlog::warn("job queue: XAUTOCLAIM answer has an unexpected shape");
    return claimed.error();
  }
  autoclaim_cursor_ = claimed->next_cursor;
  for (const auto& id : claimed->deleted_ids) {
    spdlog::warn("job queue: job {} was pending but deleted from {}; Redis dropped it", id,
                 opts_.stream);
  }
  next_result out;
  if (claimed->entries.empty()) {
    return out;
  }
  // XAUTOCLAIM counted this delivery; XPENDING tells how many there were in all.
  std::vector<std::vector<std::string>> queries;
  for (const auto& e : claimed->entries) {
    queries.push_back({"XPENDING", opts_.stream, opts_.group, e.id, e.id, "1"});
  }
  auto pending = read_conn_.pipeline(queries);
  if (!pending) {
    return pending.error();
  }
  for (std::size_t i = 0; i < claimed->entries.size(); ++i) {
    auto& e = claimed->entries[i];
    auto rows = parse_pending_reply((*pending)[i]);
    if (!rows) {
      spdlog::warn("job queue: XPENDING for job {} failed: {}", e.id, rows.error().message());
      return rows.error();
    }
    if (rows->empty()) {
      spdlog::info("job queue: job {} was acked while being reclaimed; skipped", e.id);
      continue;
    }
    std::int64_t deliveries = rows->front().deliveries;
    if (deliveries > opts_.max_deliveries) {
      auto dead = dead_letter(e, deliveries);
      if (dead) {
        out.dead.push_back(std::move(*dead));
      }
      // Otherwise the job stays pending under this consumer, unrenewed: it comes back after
      // the lease and its dead-lettering is tried again.
      continue;
    }
    spdlog::info("job queue: reclaimed job {} (delivery {})", e.id, deliveries);
    out.jobs.push_back({std::move(e.id), std::move(e.fields), deliveries});
  }
  return out;
}

result<next_result> job_queue::read_new(std::size_t max_jobs) {
  std::vector<std::string> args{"XREADGROUP",   "GROUP", opts_.group,
                                opts_.consumer, "COUNT", std::to_string(max_jobs)};
  // BLOCK 0 would mean forever: a zero block time reads without waiting instead.
  if (opts_.block.count() > 0) {
    args.push_back("BLOCK");
    args.push_back(std::to_string(opts_.block.count()));
  }
  args.insert(args.end(), {"STREAMS", opts_.stream, ">"});
  auto timeout = opts_.block + read_conn_.options().command_timeout;
  auto r = read_conn_.command(args, timeout);
  if (r && r->error_is("NOGROUP")) {
    if (auto ec = ensure_group(read_conn_, true)) {
      return ec;
    }
    r = read_conn_.command(args, timeout);
  }
  if (!r) {
    return r.error();
  }
  if (r->is_error()) {
    return server_error(*r, "XREADGROUP");
  }
  auto entries = parse_read_reply(*r, opts_.stream);
  if (!entries) {
    spdlog::warn("job queue: XREADGROUP answer has an unexpected shape");
    return entries.error();
  }
  next_result out;
  for (auto& e : *entries) {
    out.jobs.push_back({std::move(e.id), std::move(e.fields), 1});
  }
  return out;
}

result<dead_job> job_queue::dead_letter(const stream_entry& e, std::int64_t deliveries) {
  dead_job d;
  d.id = e.id;
  d.fields = e.fields;
  d.deliveries = deliveries;
  d.reason = "delivered " + std::to_string(deliveries) + " times, more than max_deliveries " +
             std::to_string(opts_.max_deliveries);
  // Why it kept failing, as its last hand_back recorded it (none when its workers died).
  if (auto last = read_conn_.command({"HGET", opts_.errors_hash, e.id});
      last && last->is_text() && !last->str.empty()) {
    d.reason += "; last error: " + last->str;
  }
  std::vector<std::string> xadd{"XADD", opts_.dead_letter_stream, "*"};
  for (const auto& [k, v] : e.fields) {
    xadd.push_back(k);
    xadd.push_back(v);
  }
  xadd.insert(xadd.end(), {"reason", d.reason, "deliveries", std::to_string(deliveries), "job_id",
                           e.id, "stream", opts_.stream});
  auto replies = read_conn_.pipeline({{"MULTI"},
                                      std::move(xadd),
                                      {"XACK", opts_.stream, opts_.group, e.id},
                                      {"XDEL", opts_.stream, e.id},
                                      {"HDEL", opts_.errors_hash, e.id},
                                      {"EXEC"}});
  if (!replies) {
    spdlog::warn("job queue: dead-lettering job {} failed: {}", e.id, replies.error().message());
    return replies.error();
  }
  if (auto ec = check_exec(*replies, 4, "dead-letter " + e.id)) {
    return ec;
  }
  const auto& added = replies->back().elements[0];
  if (!added.is_text()) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  d.dead_id = added.str;
  spdlog::warn("job queue: job {} dead-lettered as {} in {}: {}", e.id, d.dead_id,
               opts_.dead_letter_stream, d.reason);
  return d;
}

error_code job_queue::ack_blocking(const job& j) {
  release(j);
  auto replies = once_more_if_lost([&] {
    return cmd_conn_.pipeline({{"MULTI"},
                               {"XACK", opts_.stream, opts_.group, j.id},
                               {"XDEL", opts_.stream, j.id},
                               {"HDEL", opts_.errors_hash, j.id},
                               {"EXEC"}});
  });
  if (!replies) {
    return replies.error();
  }
  return check_exec(*replies, 3, "ack " + j.id);
}

error_code job_queue::hand_back_blocking(const job& j, std::string reason) {
  release(j);
  reason = storable_text(reason, 1'000);
  auto reply = once_more_if_lost([&] {
    return cmd_conn_.command({"HSET", opts_.errors_hash, j.id, reason});
  });
  if (!reply) {
    return reply.error();
  }
  return reply->is_error() ? make_error_code(redis_errc::server_error) : error_code{};
}

void job_queue::release(const job& j) {
  std::lock_guard lock(held_mutex_);
  held_.erase(j.id);
}

bool job_queue::holds(const job& j) const {
  std::lock_guard lock(held_mutex_);
  return held_.contains(j.id);
}

result<std::vector<dead_job>> job_queue::recent_dead_blocking(std::chrono::milliseconds window,
                                                              std::size_t count) {
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch() - window)
                         .count();
  auto reply = once_more_if_lost([&] {
    return cmd_conn_.command({"XREVRANGE", opts_.dead_letter_stream, "+",
                              std::to_string(std::max<std::int64_t>(since, 0)), "COUNT",
                              std::to_string(count)});
  });
  if (!reply)
    return reply.error();
  auto entries = parse_stream_entries(*reply);
  if (!entries)
    return entries.error();
  std::vector<dead_job> out;
  out.reserve(entries->size());
  for (auto& e : *entries) {
    dead_job d;
    d.dead_id = e.id;
    d.fields = std::move(e.fields);
    // The entry's own keys (see dead_job) back out of the job's fields.
    d.reason = d.fields["reason"];
    d.id = d.fields["job_id"];
    d.deliveries = std::atoll(d.fields["deliveries"].c_str());
    for (const char* key : {"reason", "job_id", "deliveries", "stream"})
      d.fields.erase(key);
    out.push_back(std::move(d));
  }
  return out;
}

result<std::int64_t> job_queue::trim_dead_blocking(std::chrono::system_clock::time_point before) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch());
  auto reply = once_more_if_lost([&] {
    return cmd_conn_.command({"XTRIM", opts_.dead_letter_stream, "MINID",
                              std::to_string(std::max<std::int64_t>(ms.count(), 0))});
  });
  if (!reply)
    return reply.error();
  if (reply->is_error())
    return server_error(*reply, "XTRIM");
  if (reply->type != redis_reply::kind::integer)
    return make_error_code(redis_errc::unexpected_reply);
  return static_cast<std::int64_t>(reply->integer);
}

result<queue_stats> job_queue::stats_blocking() {
  auto replies = once_more_if_lost([&] {
    return cmd_conn_.pipeline({{"XLEN", opts_.stream},
                               {"XPENDING", opts_.stream, opts_.group},
                               {"XPENDING", opts_.stream, opts_.group, "-", "+", "1000"},
                               {"XLEN", opts_.dead_letter_stream},
                               {"TIME"}});
  });
  if (!replies) {
    return replies.error();
  }
  const auto& r = *replies;
  queue_stats s;
  if (r[0].type != redis_reply::kind::integer || r[3].type != redis_reply::kind::integer) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  s.stream_length = r[0].integer;
  s.dead_letter_length = r[3].integer;
  if (r[1].error_is("NOGROUP")) {
    return s;  // no group yet: nothing was ever delivered
  }
  if (r[1].is_error()) {
    return server_error(r[1], "XPENDING");
  }
  if (!r[1].is_array() || r[1].elements.empty() ||
      r[1].elements[0].type != redis_reply::kind::integer) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  s.pending = r[1].elements[0].integer;
  // XPENDING's summary is [count, smallest id, greatest id, consumers]; an id starts with the
  // millisecond time of its XADD.
  if (s.pending > 0 && r[1].elements.size() >= 2 && r[1].elements[1].is_text()) {
    s.oldest_pending_age_ms = entry_age_ms(r[1].elements[1].str, r[4]);
  }
  auto rows = parse_pending_reply(r[2]);
  if (!rows) {
    return rows.error();
  }
  for (const auto& row : *rows) {
    s.oldest_pending_idle_ms = std::max(s.oldest_pending_idle_ms, row.idle_ms);
  }
  return s;
}

error_code job_queue::ping_blocking() {
  auto r = once_more_if_lost([&] { return cmd_conn_.command({"PING"}); });
  if (!r) {
    return r.error();
  }
  if (r->is_error()) {
    return server_error(*r, "PING");
  }
  if (!r->is_text() || r->str != "PONG") {
    return redis_errc::unexpected_reply;
  }
  return {};
}

void job_queue::renew_loop() {
  const auto interval = opts_.lease / 3;
  std::unique_lock lock(held_mutex_);
  while (!stopping_) {
    renew_cv_.wait_for(lock, interval, [&] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    try {
      renew_once();
    } catch (const std::exception& e) {
      spdlog::error("job queue: lease renewal threw: {}", e.what());
    }
    lock.lock();
  }
}

void job_queue::renew_once() {
  std::vector<std::string> args{"EVAL",       renew_script, "1",
                                opts_.stream, opts_.group,  opts_.consumer};
  const std::size_t first_id = args.size();
  {
    std::lock_guard lock(held_mutex_);
    if (held_.empty()) {
      return;
    }
    args.insert(args.end(), held_.begin(), held_.end());
  }
  auto r = renew_conn_.command(args);
  if (!r) {
    spdlog::warn("job queue: lease renewal failed: {}", r.error().message());
    return;
  }
  if (r->is_error()) {
    // NOGROUP included: a Redis restarted without persistence lost the jobs; they would be
    // reported lost once the group exists again and does not list them.
    spdlog::warn("job queue: lease renewal refused: {}", r->str);
    return;
  }
  if (!r->is_array()) {
    spdlog::warn("job queue: lease renewal answer has an unexpected shape");
    return;
  }
  std::set<std::string> kept;
  for (const auto& id : r->elements) {
    kept.insert(id.str);
  }
  std::lock_guard lock(held_mutex_);
  for (std::size_t i = first_id; i < args.size(); ++i) {
    // Acked or released meanwhile: not held any more, so not lost either.
    if (!kept.contains(args[i]) && held_.erase(args[i]) > 0) {
      spdlog::warn("job queue: lease of job {} lost: it is owned by another consumer or gone",
                   args[i]);
    }
  }
}

net::awaitable<result<std::string>> job_queue::enqueue(job_fields fields) {
  // By reference: the parameter lives in this frame until the work is done (and GCC 12
  // miscompiles a moved-in capture inside co_await, freeing it twice).
  co_return co_await run_blocking(pool_.get_executor(),
                                  [this, &fields] { return enqueue_blocking(fields); });
}

net::awaitable<result<next_result>> job_queue::next(std::size_t max_jobs) {
  co_return co_await run_blocking(pool_.get_executor(),
                                  [this, max_jobs] { return next_blocking(max_jobs); });
}

net::awaitable<error_code> job_queue::ack(job j) {
  co_return co_await run_blocking(pool_.get_executor(), [this, &j] { return ack_blocking(j); });
}

net::awaitable<error_code> job_queue::hand_back(job j, std::string reason) {
  co_return co_await run_blocking(pool_.get_executor(), [this, &j, &reason] {
    return hand_back_blocking(j, std::move(reason));
  });
}

net::awaitable<result<queue_stats>> job_queue::stats() {
  co_return co_await run_blocking(pool_.get_executor(), [this] { return stats_blocking(); });
}

net::awaitable<result<std::vector<dead_job>>> job_queue::recent_dead(
    std::chrono::milliseconds window, std::size_t count) {
  co_return co_await run_blocking(
      pool_.get_executor(), [this, window, count] { return recent_dead_blocking(window, count); });
}

net::awaitable<result<std::int64_t>> job_queue::trim_dead(
    std::chrono::system_clock::time_point before) {
  co_return co_await run_blocking(pool_.get_executor(),
                                  [this, before] { return trim_dead_blocking(before); });
}

net::awaitable<error_code> job_queue::ping() {
  co_return co_await run_blocking(pool_.get_executor(), [this] { return ping_blocking(); });
}

}  // namespace etl
