// etl-verify: checks an audited task (docs/architecture.md, "Audit mode"): reads the task's audit
// dumps, lists every id from the source, reads the ledger's in-doubt batches from Postgres, prints
// expected, posted, missing, duplicated, unexpected and in-doubt counts with the first ids of
// each, and the records workers rejected with their reasons. Exit 0 only when every id was
// posted exactly once; 1 when an id is missing, duplicated or unexpected; 2 for bad usage or
// when the dumps or the source cannot be read; 3 when nothing is proven wrong but the ids of
// in-doubt batches cannot be proven posted (check home for them); 4 when every id is accounted
// for but some records were rejected as bad at the source (never posted, reasons listed).
// Without the ledger (Postgres unreachable) it says so, and those ids count as missing.
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
#include "etl/config/store_options.hpp"
#include "etl/core/uuid.hpp"
#include "etl/db/batch_ledger.hpp"
#include "etl/log/logging.hpp"

namespace {

// The ledger's in-doubt batches and rejected records of the task, or nullopt when Postgres
// cannot be read (said on stderr).
std::optional<etl::ledger_facts> read_ledger(const etl::settings& cfg, const std::string& task) {
  using namespace etl;
  auto unreadable = [](const error_code& ec) {
    std::fprintf(stderr,
                 "etl-verify: cannot read the ledger (%s); in-doubt batches and rejected records "
                 "are unknown and their ids count as missing\n",
                 ec.message().c_str());
    return std::nullopt;
  };
  db_pool db(database_options(cfg, 1));
  batch_ledger ledger(db);
  net::thread_pool pool(1);
  auto doubtful = net::co_spawn(pool, ledger.list_in_doubt(task), net::use_future).get();
  if (!doubtful)
    return unreadable(doubtful.error());
  auto rejected = net::co_spawn(pool, ledger.list_rejected(task), net::use_future).get();
  if (!rejected)
    return unreadable(rejected.error());
  auto undumped = net::co_spawn(pool, ledger.list_undumped(task), net::use_future).get();
  if (!undumped)
    return unreadable(undumped.error());
  pool.join();
  ledger_facts facts;
  for (auto& b : *doubtful)
    facts.in_doubt.emplace(b.batch_no, std::move(b.ids));
  for (auto& b : *undumped)
    facts.undumped.emplace(b.batch_no, std::pair(std::move(b.reason), std::move(b.ids)));
  for (auto& r : *rejected) {
    if (r.animal_id)
      facts.rejected.emplace(*r.animal_id, std::move(r.reason));  // the first reason of an id
    else
      ++facts.rejected_without_id;
  }
  return facts;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etl;
  option_set options;
  add_options(options, {"ETL_SOURCE_URL", "ETL_AUDIT_DIR", "ETL_DATABASE_URL", "ETL_LOG_FORMAT",
                        "ETL_LOG_LEVEL"});
  add_client_options(options);
  options.add(
      string_option("ETL_TASK", std::nullopt,
                    "the audited task to check, its id as the server prints it (required)"));
  options.add(bool_option("ETL_JSON", false, "print one JSON object instead of text"));
  const auto values = parse_or_exit(
      options, argc, argv, "Checks that every id of an audited task was posted exactly once.");
  const auto cfg = load_settings_or_exit(values, "etl-verify");
  init_logging(cfg.log_format, cfg.log_level, "etl-verify");
  const auto task = values.find<std::string>("ETL_TASK");
  // The id names a folder under the audit directory: only the form the server hands out.
  if (!task || !is_canonical_uuid(*task)) {
    std::fprintf(stderr,
                 "etl-verify: --task must name a task id as the server prints it, a lower-case "
                 "UUID like 0b7c3a52-2f4e-4a51-9d0e-6f1c2b3a4d5e\n");
    return 2;
  }
  std::string why;
  auto dumps = read_audit_dumps(cfg.audit_dir, *task, &why);
  if (!dumps && dumps.error() == make_error_code(boost::system::errc::no_such_file_or_directory)) {
    // No batch of the task wrote a dump: none was posted, or every dump failed (the ledger
    // says which, below). Every listed id is then missing, unproven or rejected.
    std::fprintf(stderr, "etl-verify: no dumps of task %s in %s\n", task->c_str(),
                 cfg.audit_dir.c_str());
    dumps = std::map<int, std::vector<std::int64_t>>{};
  }
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
  const auto v = verify_audit(std::move(listing->ids), *dumps, read_ledger(cfg, *task));
  if (values.get<bool>("ETL_JSON")) {
    std::printf("%s\n", v.to_json().c_str());
  } else {
    std::printf("task %s: %zu batch dumps\n%s", task->c_str(), dumps->size(), v.to_text().c_str());
  }
  if (v.proven())
    return 0;
  if (!v.ok())
    return 1;
  return v.accounted() ? 4 : 3;
}
