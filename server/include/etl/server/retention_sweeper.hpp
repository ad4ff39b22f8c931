// etl-server's retention clean-up (ETL_RETENTION): at start and then every `period`, deletes
// the finished tasks older than the retention with everything that hangs off them (see
// etl/db/retention.hpp) and trims the dead-letter stream to the same age. It runs on a thread
// of its own with a Postgres connection and a Redis connection of its own, so a long pass never
// holds up the API. Several servers may run one: a Postgres advisory lock lets one sweep at a
// time, and every delete is idempotent anyway. A failed pass is logged and tried next period.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "etl/db/db_pool.hpp"
#include "etl/db/retention.hpp"
#include "etl/queue/job_queue.hpp"

namespace etl {

struct retention_options {
  std::chrono::milliseconds retention{30LL * 24 * 3'600'000};
  std::chrono::milliseconds period{3'600'000};
};

// What one pass did.
struct sweep_report {
  purge_report tasks;
  std::int64_t dead_letters = 0;  // dead-letter entries trimmed
  bool failed = false;            // a store failed (logged); the next pass tries again
};

class retention_sweeper {
 public:
  // Connects nothing yet; start() begins the passes. `db.connections` is forced to 1.
  retention_sweeper(db_pool::options db, redis_options redis, retention_options opts,
                    job_queue_options queue_opts = {});
  // stop(), then waits for the pass under way to end after its current chunk.
  ~retention_sweeper();
  retention_sweeper(const retention_sweeper&) = delete;
  retention_sweeper& operator=(const retention_sweeper&) = delete;

  // Starts the thread: a pass now, then one every period.
  void start();
  // Ends the passes; thread-safe.
  void stop();
  // One pass on the calling thread (blocking; for the thread and for tests).
  sweep_report sweep_once();

 private:
  void loop();

  retention_options opts_;
  db_pool db_;
  job_queue queue_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace etl
