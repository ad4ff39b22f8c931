// etl-verify: checks an audited task (DESIGN.md, "Audit mode"): reads the task's audit dumps,
// lists every id from the source, prints expected, posted, missing, duplicated and unexpected
// counts. Exit 0 only when every id was posted exactly once; 1 when not; 2 for bad usage or
// when the dumps or the source cannot be read.
#include <cstdio>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "etl/audit/audit_dump.hpp"
#include "etl/audit/source_listing.hpp"
#include "etl/audit/verification.hpp"
#include "etl/config/option_types.hpp"
#include "etl/config/settings.hpp"
#include "etl/core/uuid.hpp"
#include "etl/log/logging.hpp"

int main(int argc, char** argv) {
  using namespace etl;
  option_set options;
  add_options(options, {"ETL_SOURCE_URL", "ETL_AUDIT_DIR", "ETL_LOG_FORMAT", "ETL_LOG_LEVEL"});
  add_client_options(options);
  options.add(
      string_option("ETL_TASK", std::nullopt, "the audited task to check, a UUID (required)"));
  options.add(bool_option("ETL_JSON", false, "print one JSON object instead of text"));
  const auto values = parse_or_exit(
      options, argc, argv, "Checks that every id of an audited task was posted exactly once.");
  const auto cfg = load_settings_or_exit(values, "etl-verify");
  init_logging(cfg.log_format, cfg.log_level, "etl-verify");
  const auto task = values.find<std::string>("ETL_TASK");
  if (!task || !is_uuid(*task)) {
    std::fprintf(stderr, "etl-verify: --task must name a task id (a UUID)\n");
    return 2;
  }
  std::string why;
  auto dumps = read_audit_dumps(cfg.audit_dir, *task, &why);
  if (!dumps) {
    std::fprintf(stderr, "etl-verify: cannot read the dumps of task %s in %s: %s\n", task->c_str(),
                 cfg.audit_dir.c_str(),
                 why.empty() ? dumps.error().message().c_str() : why.c_str());
    return 2;
  }

  net::thread_pool pool(2);
  http_client source(pool.get_executor(), cfg.source_url, client_options(cfg));
  auto listing = net::co_spawn(pool, list_source_ids(source, 32), net::use_future).get();
  source.close_idle();
  pool.join();
  if (!listing) {
    std::fprintf(stderr, "etl-verify: cannot list the source: %s\n", listing.error().c_str());
    return 2;
  }
  const auto v = verify_audit(std::move(listing->ids), *dumps);
  if (values.get<bool>("ETL_JSON")) {
    std::printf("%s\n", v.to_json().c_str());
  } else {
    std::printf("task %s: %zu batch dumps\n%s", task->c_str(), dumps->size(), v.to_text().c_str());
  }
  return v.ok() ? 0 : 1;
}
