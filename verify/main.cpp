// etl-verify: checks a task against what it should have delivered. For an audited `animals`
// task (docs/architecture.md, "Audit mode"): reads the task's audit dumps, lists every id from
// the source, reads the ledger's in-doubt batches from Postgres, prints expected, posted,
// missing, duplicated, unexpected and in-doubt counts with the first ids of each, and the
// records workers rejected with their reasons. For a task of any other pipeline: reads its
// source again as the task did and asks each sink what it holds
// (etl/audit/pipeline_verification.hpp). Exit 0 only when every id was delivered exactly once;
// 1 when an id is missing, duplicated or unexpected; 2 for bad usage or when the dumps, the
// task or the source cannot be read; 3 when nothing is proven wrong but the ids of in-doubt
// batches cannot be proven posted (check home for them); 4 when every id is accounted for but
// some records were rejected as bad at the source (never delivered, reasons listed). Without the
// ledger (Postgres unreachable) an animals task's check says so, and those ids count as missing.
#include <algorithm>
#include <cstdio>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "etl/audit/audit_dump.hpp"
#include "etl/audit/pipeline_verification.hpp"
#include "etl/audit/source_listing.hpp"
#include "etl/audit/verification.hpp"
#include "etl/config/option_types.hpp"
#include "etl/config/settings.hpp"
#include "etl/config/store_options.hpp"
#include "etl/core/uuid.hpp"
#include "etl/db/batch_ledger.hpp"
#include "etl/db/cursor_store.hpp"
#include "etl/db/tasks_repository.hpp"
#include "etl/http/url.hpp"
#include "etl/log/logging.hpp"
#include "etl/pipelines/spec_loader.hpp"

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

// The task's pipeline, params and incremental start, or nullopt when it cannot be read (said
// on stderr).
struct task_facts {
  std::string pipeline;
  boost::json::object params;
  std::optional<etl::incremental_start> cursor;
};

std::optional<task_facts> read_task_facts(const etl::settings& cfg, const std::string& id) {
  using namespace etl;
  db_pool db(database_options(cfg, 1));
  tasks_repository tasks(db);
  cursor_store cursors(db);
  net::thread_pool pool(1);
  auto t = net::co_spawn(pool, tasks.get_task(id), net::use_future).get();
  auto c = net::co_spawn(pool, cursors.of_task(id), net::use_future).get();
  pool.join();
  if (!t || !c) {
    std::fprintf(stderr, "etl-verify: cannot read task %s: %s\n", id.c_str(),
                 (!t ? t.error() : c.error()).message().c_str());
    return std::nullopt;
  }
  if (!*t) {
    std::fprintf(stderr, "etl-verify: no task %s\n", id.c_str());
    return std::nullopt;
  }
  return task_facts{(*t)->pipeline, (*t)->params, std::move(*c)};
}

// etl-verify for a task of a spec-driven pipeline: its exit code.
int verify_pipeline_task(const etl::settings& cfg, const etl::pipeline_spec& spec,
                         const std::string& id, const task_facts& facts, bool as_json) {
  using namespace etl;
  std::string why;
  const auto base = parse_url(resolve(spec.source.base_url), &why);
  if (!base) {
    std::fprintf(stderr, "etl-verify: pipeline %s's base URL: %s\n", spec.name.c_str(),
                 why.c_str());
    return 2;
  }
  const auto base_path = base_path_of(*base);
  auto opts = client_options(cfg);
  std::optional<source_credentials> credentials;
  if (spec.source.auth) {
    auto read = read_credentials(*spec.source.auth);
    if (!read) {
      std::fprintf(stderr, "etl-verify: %s\n", read.error().c_str());
      return 2;
    }
    credentials = std::move(*read);
    present_credentials(*credentials, opts);
  }
  net::thread_pool pool(2);
  http_client client(pool.get_executor(), base->origin(), std::move(opts));
  auto reading = net::co_spawn(pool,
                               read_source_again(client, spec, base_path,
                                                 credentials ? &*credentials : nullptr,
                                                 facts.params, facts.cursor),
                               net::use_future)
                     .get();
  client.close_idle();
  pool.join();
  if (!reading) {
    std::fprintf(stderr, "etl-verify: cannot read the source of %s: %s\n", spec.name.c_str(),
                 reading.error().c_str());
    return 2;
  }
  db_pool db(database_options(cfg, 1));
  auto sinks = db.run_connection_sync<boost::system::result<std::vector<sink_check>, std::string>>(
      [&](pqxx::connection& c) { return check_sinks(c, spec, id, cfg.output_dir, *reading); });
  if (!sinks || !*sinks) {
    std::fprintf(stderr, "etl-verify: cannot read the sinks of %s: %s\n", spec.name.c_str(),
                 !sinks ? sinks.error().message().c_str() : sinks->error().c_str());
    return 2;
  }
  const auto& checks = **sinks;
  if (as_json)
    std::printf("%s\n", pipeline_verdict_json(id, spec, *reading, checks).c_str());
  else
    std::printf("%s", pipeline_verdict_text(id, spec, *reading, checks).c_str());
  const bool ok =
      std::all_of(checks.begin(), checks.end(), [](const sink_check& c) { return c.ok(); });
  if (!ok)
    return 1;
  return reading->rejected > 0 ? 4 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etl;
  option_set options;
  add_options(options, {"ETL_SOURCE_URL", "ETL_AUDIT_DIR", "ETL_DATABASE_URL", "ETL_LOG_FORMAT",
                        "ETL_LOG_LEVEL", "ETL_PIPELINES_DIR", "ETL_OUTPUT_DIR"});
  add_client_options(options);
  options.add(
      string_option("ETL_TASK", std::nullopt,
                    "the audited task to check, its id as the server prints it (required)"));
  options.add(bool_option("ETL_JSON", false, "print one JSON object instead of text"));
  const auto values = parse_or_exit(
      options, argc, argv,
      "Checks that every record of a task was delivered exactly once: an audited animals task "
      "against its dumps, any other pipeline's task against its sinks.");
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
  const auto facts = read_task_facts(cfg, *task);
  if (facts && facts->pipeline != "animals") {
    const auto pipelines = load_pipelines_at_start(cfg.pipelines_dir);
    if (!pipelines)
      return 2;
    const auto spec =
        std::find_if(pipelines->begin(), pipelines->end(),
                     [&](const pipeline_spec& p) { return p.name == facts->pipeline; });
    if (spec == pipelines->end()) {
      std::fprintf(stderr, "etl-verify: task %s ran pipeline %s, which no spec defines now\n",
                   task->c_str(), facts->pipeline.c_str());
      return 2;
    }
    return verify_pipeline_task(cfg, *spec, *task, *facts, values.get<bool>("ETL_JSON"));
  }
  // An animals task, or one whose row cannot be read: the audit dumps say what was posted.
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
