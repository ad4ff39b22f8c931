// The job queue: "plan" and "batch" jobs on one Redis stream read by a consumer group, with
// at-least-once delivery (see docs/architecture.md, "The ledger and its guarantees").
//
// A job handed out by `next` is leased to this consumer: while it is held, a thread of the
// queue's own renews the lease every lease/3 (XCLAIM ... JUSTID, which resets the entry's idle
// time without counting a delivery), so busy work on an event loop cannot starve it. A consumer
// that dies stops renewing; after `lease` its jobs are reclaimed by another consumer's `next`
// (XAUTOCLAIM). A job delivered more than `max_deliveries` times is not handed out again: it is
// moved to the dead-letter stream and reported in `next_result::dead`, so the worker can fail
// its task with the reason. `ack` removes a finished job for good (XACK + XDEL in one
// transaction), so the stream only holds jobs not yet done.
//
// Every Redis call runs on a small thread pool the queue owns (hiredis blocks), over three
// connections: one for `next` (its XREADGROUP BLOCK ties the connection up), one for the other
// calls, one for lease renewal. A lost connection is re-made on the next call, with backoff; a
// consumer group lost with a Redis restarted without persistence is created again. `next`, `ack`
// and `stats` try once more at once when their connection turns out closed (Redis restarted
// since the last call); `enqueue` does not, since a repeated XADD could add the job twice.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "etl/core/aliases.hpp"
#include "etl/queue/redis_connection.hpp"
#include "etl/queue/stream_reply.hpp"

namespace etl {

using job_fields = std::map<std::string, std::string>;

struct job {
  std::string id;               // the stream entry id: what `ack` and `release` need
  job_fields fields;            // as enqueued, e.g. type=batch, task=<uuid>, batch=<n>
  std::int64_t deliveries = 1;  // 1 the first time; a reclaimed job counts every delivery
};

// A job taken out of circulation because it was delivered too often. Its dead-letter entry
// holds its fields plus "reason", "deliveries", "job_id" and "stream" (which overwrite fields of
// the same name for a reader that keeps the last value).
struct dead_job {
  std::string id;       // its id in the jobs stream (now deleted there)
  std::string dead_id;  // its id in the dead-letter stream
  job_fields fields;    // as enqueued
  std::int64_t deliveries = 0;
  std::string reason;  // e.g. "delivered 6 times, more than max_deliveries 5"
};

struct next_result {
  std::vector<job> jobs;       // leased to this consumer until acked or released
  std::vector<dead_job> dead;  // dead-lettered by this call: fail their tasks with `reason`
};

// For /metrics.
struct queue_stats {
  std::int64_t stream_length = 0;           // entries in the jobs stream (not yet acked)
  std::int64_t pending = 0;                 // delivered and not yet acked
  std::int64_t oldest_pending_idle_ms = 0;  // the largest idle time among the first 1000 pending
  // Since the oldest pending job was enqueued (its entry id's time, against Redis's clock); 0
  // when nothing is pending. Unlike the idle time, lease renewals do not reset it.
  std::int64_t oldest_pending_age_ms = 0;
  std::int64_t dead_letter_length = 0;  // entries in the dead-letter stream
};

struct job_queue_options {
  std::string stream = "etl:jobs";
  std::string group = "etl-workers";
  std::string consumer;  // empty: "<hostname>:<pid>:<n>", n counting queues in this process
  std::chrono::milliseconds lease{10'000};  // unrenewed this long, a job may be reclaimed
  std::int64_t max_deliveries = 5;          // delivered more often, a job is dead-lettered
  std::string dead_letter_stream = "etl:jobs:dead";
  // job id -> the reason its last run failed (hand_back), read into its dead-letter reason
  std::string errors_hash = "etl:jobs:errors";
  std::chrono::milliseconds block{2'000};  // how long `next` waits for a new job
  std::size_t threads = 3;                 // the blocking pool running the Redis calls
};

class job_queue {
 public:
  // Does not connect: the first call does. Throws std::invalid_argument (a start-up error) for
  // empty stream/group/dead-letter names, a lease under 30 ms, max_deliveries < 1, a negative
  // block time or zero threads.
  job_queue(redis_options redis, job_queue_options opts = {});
  // Stops renewing and waits for calls in progress (at most about one `next` block time). Held
  // jobs stay pending: another consumer reclaims them after the lease.
  ~job_queue();
  job_queue(const job_queue&) = delete;
  job_queue& operator=(const job_queue&) = delete;

  const std::string& consumer() const noexcept { return opts_.consumer; }
  const job_queue_options& options() const noexcept { return opts_; }

  // Appends a job (XADD, creating the stream and the group on first use); returns its id.
  // Fails with errc::invalid_argument for no fields, or a redis_errc (connection or server
  // error; after connection_lost/timeout the job may or may not have been added).
  net::awaitable<result<std::string>> enqueue(job_fields fields);

  // Hands out up to `max_jobs` jobs. First reclaims jobs whose lease expired (XAUTOCLAIM,
  // idle >= lease), dead-lettering those delivered more than max_deliveries times; when that
  // yields nothing, waits up to `block` for new jobs (XREADGROUP ... >). An empty result means
  // nothing to do yet. Every returned job is held (renewed) until `ack` or `release`. Fails with
  // errc::invalid_argument for max_jobs 0, or a redis_errc: then no job was handed out, though
  // a reclaimed one may have been claimed (it comes back after another lease). Calls of `next`
  // run one at a time.
  net::awaitable<result<next_result>> next(std::size_t max_jobs);

  // Marks the job done and deletes it (XACK + XDEL in MULTI/EXEC) and stops renewing it, even
  // when the call fails. Acking a job already acked (e.g. by a consumer that reclaimed it) is
  // not an error. Fails with a redis_errc: the job then stays pending and is redelivered after
  // the lease; the worker's idempotent steps make that harmless.
  net::awaitable<error_code> ack(job j);

  // Stops renewing the job without acking it: it is redelivered after the lease (hand-back).
  // Does no I/O; never fails.
  void release(const job& j);

  // release() for a job whose run failed, recording `reason` (storable_text, 1,000 bytes) as its
  // last error, so that a job dead-lettered later says why it kept failing. Fails with a
  // redis_errc when the reason could not be recorded; the job is released either way.
  net::awaitable<error_code> hand_back(job j, std::string reason);

  // True while the job is held and its lease was not lost. A lease is lost when renewal finds
  // the job owned by another consumer (it was reclaimed while this one stalled): the worker
  // should then not ack or post it. Does no I/O.
  bool holds(const job& j) const;

  // Stream length, pending count, oldest pending idle time and dead-letter length, read at
  // once. Fails with a redis_errc.
  net::awaitable<result<queue_stats>> stats();

  // The dead-letter entries of the last `window`, newest first, at most `count`: what a worker
  // starting up records again on their tasks, in case the worker that dead-lettered them died
  // before it could. Fails with a redis_errc.
  net::awaitable<result<std::vector<dead_job>>> recent_dead(std::chrono::milliseconds window,
                                                            std::size_t count);

  // Deletes the dead-letter entries added before `before` (XTRIM MINID: an entry's id is the
  // millisecond of its XADD); returns how many went. The retention clean-up calls it. Fails
  // with a redis_errc.
  net::awaitable<result<std::int64_t>> trim_dead(std::chrono::system_clock::time_point before);
  // PING on the command connection, for readiness checks. Fails with a redis_errc
  // (unexpected_reply when the answer is not PONG).
  net::awaitable<error_code> ping();

  // The same operations, blocking the calling thread: for tests and tools, never for an event
  // loop thread.
  result<std::string> enqueue_blocking(const job_fields& fields);
  result<next_result> next_blocking(std::size_t max_jobs);
  error_code ack_blocking(const job& j);
  error_code hand_back_blocking(const job& j, std::string reason);
  result<queue_stats> stats_blocking();
  result<std::vector<dead_job>> recent_dead_blocking(std::chrono::milliseconds window,
                                                     std::size_t count);
  result<std::int64_t> trim_dead_blocking(std::chrono::system_clock::time_point before);
  error_code ping_blocking();

 private:
  error_code ensure_group(redis_connection& conn, bool force);
  result<next_result> reclaim(std::size_t max_jobs);
  result<next_result> read_new(std::size_t max_jobs);
  result<dead_job> dead_letter(const stream_entry& e, std::int64_t deliveries);
  void renew_loop();
  void renew_once();

  job_queue_options opts_;
  redis_connection read_conn_;
  redis_connection cmd_conn_;
  redis_connection renew_conn_;
  std::mutex read_mutex_;  // one `next` at a time: it owns read_conn_ and the cursor
  std::string autoclaim_cursor_ = "0-0";
  std::atomic<bool> group_ready_{false};

  mutable std::mutex held_mutex_;
  std::set<std::string> held_;
  bool stopping_ = false;
  std::condition_variable renew_cv_;
  std::thread renewer_;

  net::thread_pool pool_;
};

}  // namespace etl
