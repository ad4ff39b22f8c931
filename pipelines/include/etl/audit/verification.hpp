// The check behind etl-verify: every id the source lists was posted exactly once, and nothing
// else was posted. Pure logic over id lists, so it is unit-tested without files or network.
//
// A batch in doubt (docs/architecture.md, "The ledger and its guarantees": its POST was written but
// no answer was recorded) has no dump, so its ids would look missing although home may have them.
// Given the ledger's in-doubt batches, those ids are reported apart as unproven, not as missing:
// the operator sees exactly where a gap or a duplicate may be. Likewise the records a worker
// rejected (bad upstream data, docs/architecture.md) were never posted on purpose: they are
// reported with their reasons, apart from the ids nobody accounts for; and a batch home took whose
// audit dump the worker could not write is reported with why, its ids neither missing nor proven.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace etl {

// What the ledger in Postgres says about a task, for the ids the dumps cannot account for.
struct ledger_facts {
  std::map<int, std::vector<std::int64_t>> in_doubt;  // in-doubt batch_no -> the ids it owns
  std::map<std::int64_t, std::string> rejected;       // rejected animal id -> the reason
  std::size_t rejected_without_id = 0;                // rejected records with no readable id
  // Batches home took whose audit dump could not be written: batch_no -> (why, the ids it owns).
  std::map<int, std::pair<std::string, std::vector<std::int64_t>>> undumped;
};

struct verification {
  std::size_t expected = 0;              // distinct ids the source lists
  std::size_t posted = 0;                // ids in the dumps, repeats included
  std::vector<std::int64_t> missing;     // listed, never posted (ascending)
  std::vector<std::int64_t> duplicated;  // posted more than once (ascending, each once)
  std::vector<std::int64_t> unexpected;  // posted, not listed (ascending, each once)
  std::vector<int> in_doubt_batches;     // the ledger's in-doubt batches (ascending)
  std::vector<std::int64_t> unproven;    // listed, in no dump, owned by an in-doubt batch
  // Listed, in no dump, rejected by a worker with this reason (ascending by id).
  std::vector<std::pair<std::int64_t, std::string>> rejected;
  std::size_t rejected_without_id = 0;  // rejected records that named no id
  // Batches posted without a dump (the worker could not write it), with why (ascending).
  std::vector<std::pair<int, std::string>> undumped_batches;
  std::vector<std::int64_t> undumped;  // listed, in no dump, owned by such a batch (ascending)
  bool ledger_read = false;            // whether the ledger's facts were given at all

  // Nothing proven wrong: no id missing, duplicated or unexpected (unproven and undumped ids
  // aside).
  bool ok() const noexcept { return missing.empty() && duplicated.empty() && unexpected.empty(); }
  // Every id accounted for: ok(), none unproven or undumped; each posted exactly once or
  // rejected.
  bool accounted() const noexcept { return ok() && unproven.empty() && undumped.empty(); }
  // Every id proven posted exactly once: accounted() and none rejected.
  bool proven() const noexcept { return accounted() && rejected.empty(); }
  // A few lines for people: the counts and the first few ids of each problem.
  std::string to_text(std::size_t show = 10) const;
  // One JSON object for machines, with every id of each problem.
  std::string to_json() const;
};

// Compares the source's ids (repeats allowed: the listing may repeat an id) with the dumps.
// `ledger`, when given, turns listed ids that are in no dump from missing into unproven (owned
// by an in-doubt batch) or rejected (a worker rejected the record, with a reason).
verification verify_audit(std::vector<std::int64_t> source_ids,
                          const std::map<int, std::vector<std::int64_t>>& dumps,
                          const std::optional<ledger_facts>& ledger = std::nullopt);

}  // namespace etl
