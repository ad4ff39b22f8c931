// The retention clean-up of the database: finished tasks older than ETL_RETENTION go, with
// their batches, claimed ids (task_ids) and rejected records (ON DELETE CASCADE), in small
// transactions so that no lock is held for long. Queued and running tasks are never touched.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "etl/core/aliases.hpp"
#include "etl/db/db_pool.hpp"

namespace etl {

struct purge_report {
  bool ran = false;        // false: another process held the clean-up lock; nothing was done
  std::int64_t tasks = 0;  // tasks deleted, with everything that hangs off them
};

// Deletes the tasks that are succeeded, failed or cancelled and finished before `cutoff`,
// oldest first, at most `chunk` tasks per transaction, until none is left or `stop` (when
// given) reads true between chunks. Holds a Postgres advisory lock meanwhile so that two
// servers do not sweep at once (a second returns ran = false). Blocks the calling thread: never
// call it on an event loop. Errors as db_pool::run.
result<purge_report> purge_finished_tasks_blocking(db_pool& db,
                                                   std::chrono::system_clock::time_point cutoff,
                                                   std::size_t chunk = 20,
                                                   const std::atomic<bool>* stop = nullptr);

}  // namespace etl
