// What running a job came to: the verdict the job runner acts on.
#pragma once

#include <optional>
#include <string>

#include "etl/queue/job_queue.hpp"

namespace etl {

enum class job_verdict {
  done,   // acknowledge: the job's effect is recorded (or there is nothing left to do)
  retry,  // hand back: redelivered after the lease, dead-lettered after too many deliveries
  // Postgres is unreachable: not the job's fault. The runner keeps the job (its lease renewed)
  // and runs it again after a pause, so an outage does not spend its deliveries.
  wait,
  // A newer run of the same job holds its work (the job was handed out again while this run
  // was still going): stop renewing it, neither acknowledge nor hand it back.
  stale,
};

struct job_outcome {
  job_verdict verdict = job_verdict::done;
  std::string reason;  // why a retry or a wait: logged, and kept for the dead-letter note

  static job_outcome done() { return {job_verdict::done, {}}; }
  static job_outcome retry(std::string why) { return {job_verdict::retry, std::move(why)}; }
  static job_outcome stale(std::string why) { return {job_verdict::stale, std::move(why)}; }
  // wait when `ec` says Postgres is unreachable (db_errc::connection_failed, commit_in_doubt),
  // else retry; `why` names the step and ends up with ec's message.
  static job_outcome db_failure(std::string why, error_code ec);
};

}  // namespace etl
