// etl-server as a whole: the Postgres pool, the job queue, the HTTP API on its listener, and
// a graceful stop on SIGTERM or SIGINT (stop accepting, finish requests in flight, exit).
#pragma once

#include <string>
#include <vector>

#include "etl/config/settings.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

struct server_app_options {
  std::size_t threads = 2;  // event loop threads
  // The pipelines the API lists (GET /extractor/pipelines); null: none.
  const std::vector<pipeline_spec>* pipelines = nullptr;
};

// Runs the server until a signal stops it. Returns the exit code: 0 after a clean stop, 1 when
// the schema is older than this binary needs. Throws on start-up errors (bad settings, the
// listen address cannot be bound).
int run_server(const settings& cfg, const server_app_options& opts);

// Applies the service's pending migrations, then each pipeline's own (its tables), and prints
// what it did. Returns the exit code.
int run_migrations(const settings& cfg, const std::vector<pipeline_spec>& pipelines);

// Compacts the Parquet output of the pipeline named `name` (pipelines/compaction.hpp) under
// ETL_OUTPUT_DIR, printing what it merged. Returns the exit code: 0 done (or nothing to merge),
// 1 failed (the reason logged), 2 no such pipeline.
int run_compaction(const settings& cfg, const std::vector<pipeline_spec>& pipelines,
                   const std::string& name);

// Removes the unlisted files (pipelines/sweep.hpp) of the pipeline named `name`, or of every
// pipeline for "all", under ETL_OUTPUT_DIR, printing each file removed. Returns the exit code:
// 0 done (or nothing to remove), 1 failed (the reason logged), 2 no such pipeline.
int run_sweep(const settings& cfg, const std::vector<pipeline_spec>& pipelines,
              const std::string& name);

}  // namespace etl
