// etl-server: the HTTP API and dashboard (see etl/server/server_app.hpp).
#include "etl/config/option_types.hpp"
#include "etl/config/settings.hpp"
#include "etl/log/logging.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "etl/server/server_app.hpp"

int main(int argc, char** argv) {
  using namespace etl;
  option_set options;
  add_common_options(options);
  add_server_options(options);
  options.add(
      bool_option("ETL_MIGRATE_ONLY", false, "apply the pending database migrations and exit"));
  options.add(int_option("ETL_SERVER_THREADS", 2, 1, 64, "event loop threads"));
  options.add(string_option("ETL_COMPACT", std::nullopt,
                            "merge the pipeline of this name's Parquet files into one per folder "
                            "and exit (docs/pipelines.md, Compaction)"));
  options.add(string_option("ETL_SWEEP", std::nullopt,
                            "remove the files of the pipeline of this name (or of all) that the "
                            "manifest does not list, and exit (docs/pipelines.md, the sweep)"));
  const auto values = parse_or_exit(options, argc, argv,
                                    "Serves the ETL's HTTP API: trigger tasks, read their status.");
  const auto cfg = load_settings_or_exit(values, "etl-server");
  init_logging(cfg.log_format, cfg.log_level, "etl-server");
  const bool migrate_only = values.get<bool>("ETL_MIGRATE_ONLY");
  if (!migrate_only)
    spdlog::info("etl-server starting: {}", describe(cfg));
  const auto pipelines = load_pipelines_at_start(cfg.pipelines_dir);
  if (!pipelines)
    return 2;
  if (migrate_only)
    return run_migrations(cfg, *pipelines);
  if (const auto compact = values.find<std::string>("ETL_COMPACT"))
    return run_compaction(cfg, *pipelines, *compact);
  if (const auto sweep = values.find<std::string>("ETL_SWEEP"))
    return run_sweep(cfg, *pipelines, *sweep);
  server_app_options opts;
  opts.pipelines = &*pipelines;
  opts.threads = static_cast<std::size_t>(values.get<std::int64_t>("ETL_SERVER_THREADS"));
  return run_server(cfg, opts);
}
