// The batch job's message: the plan job enqueues one per unfinished batch of a task; a worker
// fetches, posts and records the batch from it (worker/batch_job.hpp).
#pragma once

#include <string>

#include "etl/jobs/job_message.hpp"

namespace etl {

struct batch_message {
  // 2 added `pipeline` and `params`; a version 1 entry is a batch of `animals`, without params.
  // 3 added `task_date`; a version 2 entry has none ("").
  static constexpr int version = 3;

  std::string task_id;  // a task row's uuid
  int batch_no = 0;     // the batch's number in its task's plan, from 0
  // The listing pages the batch covers, inclusive; in a windowed pipeline its day windows,
  // numbered from 1 (the task's first day).
  int first_page = 1;
  int last_page = 1;
  bool audit = false;                // audit_mode: dump what is posted, for etl-verify
  std::string pipeline = "animals";  // the spec's name
  std::string params = "{}";         // the task's parameters, a JSON object's text
  // The UTC day the task was created, YYYY-MM-DD: what {task.date} in a file name means, the
  // same for every batch and every redelivery.
  std::string task_date;
};

// The stream fields: type=batch, v=3, task, batch, first_page, last_page, audit=0|1, pipeline,
// params, task_date.
job_fields encode(const batch_message& m);

// Fails for another type, a newer version, a task that is not a uuid, a negative batch number,
// a page range that is empty or starts below page 1, an empty pipeline, params that are not a
// JSON object, or a task_date that is not YYYY-MM-DD (version 3 on).
message_result<batch_message> decode_batch_message(const job_fields& fields);

}  // namespace etl
