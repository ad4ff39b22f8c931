// The batch job of a pipeline whose sinks are `postgres` and `files` (docs/pipelines.md): its
// pages fetched from the spec's REST source (planned listing pages, or every page of its day
// windows), each record typed by the spec's fields with its child tables' rows (a record that
// does not fit is rejected with the reason), the files written under names fixed by task,
// batch and partition, then one transaction that upserts the postgres sinks' rows, replaces the
// partitions of the batch's windows written by earlier tasks, lists the files in the manifest
// and records the batch as done. A crash before that commit leaves
// nothing recorded (files on disk unlisted, rewritten by the next run); after it, everything.
// A batch already recorded (a redelivered or duplicate job) writes nothing more to Postgres.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "etl/jobs/batch_message.hpp"
#include "etl/worker/job_outcome.hpp"
#include "etl/worker/worker_context.hpp"

#include "etl/pipelines/records.hpp"

namespace etl {

// The salt and rounds of `spec`'s secret fields, the salt read from the environment variable
// the spec names; nullopt for a spec without secrets. Fails, naming the variable (never a
// value), when it is unset or empty: such a task must fail rather than write clear text.
boost::system::result<std::optional<transform_secrets>, std::string> secrets_of(
    const pipeline_spec& spec);

// Runs batch `m` of `spec` (a spec whose sinks are postgres or files) for job `j`.
net::awaitable<job_outcome> run_pipeline_batch(worker_context& ctx, const job& j,
                                               const batch_message& m, const pipeline_spec& spec);

}  // namespace etl
