// Publishes a process's counters to a Redis hash shared with other processes: every interval
// (and once more at stop) it adds the delta since its last successful publish to each field
// (MULTI, HINCRBY..., EXEC), so the hash holds totals over every process that ever ran.
//
// It runs on a thread of its own with its own connection: hiredis blocks, and the jobs whose
// counters it reads never wait for it. When Redis is unreachable the deltas are kept and go out
// with the next publish that succeeds, so an outage delays counts but loses none.
//
// The loss window, honestly: a process killed without a clean stop (SIGKILL, a crash) loses
// the deltas of its last interval (about a second). And when the connection breaks after EXEC
// was sent but before its answer came back, the transaction may or may not have run: the
// deltas are kept and sent again, so that rare case can count one interval twice rather than
// lose it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "etl/core/aliases.hpp"
#include "etl/metrics/worker_metrics.hpp"
#include "etl/queue/redis_connection.hpp"

namespace etl {

struct metrics_publisher_options {
  std::string key{worker_metrics_key};
  std::chrono::milliseconds interval{1'000};
};

class metrics_publisher {
 public:
  // Starts the publishing thread; `read` returns the current totals (cheap and thread-safe: it
  // runs on the publisher's thread). Does not connect: the first publish does. Throws
  // std::invalid_argument (a start-up error) for an empty key or a non-positive interval.
  metrics_publisher(redis_options redis, std::function<metric_fields()> read,
                    metrics_publisher_options opts = {});
  // stop().
  ~metrics_publisher();
  metrics_publisher(const metrics_publisher&) = delete;
  metrics_publisher& operator=(const metrics_publisher&) = delete;

  // Stops the thread after one last publish of what changed since the last one (bounded by the
  // connection's connect and command timeouts). Idempotent.
  void stop();

  // Publishes what changed since the last successful publish, on the calling thread (blocks).
  // Fails with a redis_errc (the deltas are kept for the next try) or, for an error answer from
  // Redis (e.g. a field that is not an integer), redis_errc::server_error.
  error_code publish_now();

 private:
  void loop();

  redis_connection conn_;
  std::function<metric_fields()> read_;
  metrics_publisher_options opts_;
  std::mutex publish_mutex_;  // one publish at a time; guards published_
  metric_fields published_;   // the totals as of the last successful publish
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace etl
