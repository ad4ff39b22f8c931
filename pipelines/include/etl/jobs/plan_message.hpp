// The plan job's message: etl-server enqueues one per triggered task (and its outbox sweep again
// for a task whose enqueue was lost); a worker plans the task's batches from it.
#pragma once

#include <string>

#include "etl/jobs/job_message.hpp"

namespace etl {

struct plan_message {
  // 2 added `pipeline`; a version 1 entry is a task of `animals`.
  static constexpr int version = 2;

  std::string task_id;               // a task row's uuid
  bool audit = false;                // audit_mode: dump what is posted, for etl-verify
  std::string pipeline = "animals";  // the spec's name
};

// The stream fields: type=plan, v=2, task, audit=0|1, pipeline.
job_fields encode(const plan_message& m);

// Fails for another type, a newer version, a task that is not a uuid, or an empty pipeline.
message_result<plan_message> decode_plan_message(const job_fields& fields);

}  // namespace etl
