// The check behind etl-verify: every id the source lists was posted exactly once, and nothing
// else was posted. Pure logic over id lists, so it is unit-tested without files or network.
//
// A batch in doubt (DESIGN.md, "Delivery guarantees": its POST was written but no answer was
// recorded) has no dump, so its ids would look missing although home may have them. Given the
// ledger's in-doubt batches, those ids are reported apart as unproven, not as missing: the
// operator sees exactly where a gap or a duplicate may be.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace etl {

struct verification {
  std::size_t expected = 0;              // distinct ids the source lists
  std::size_t posted = 0;                // ids in the dumps, repeats included
  std::vector<std::int64_t> missing;     // listed, never posted (ascending)
  std::vector<std::int64_t> duplicated;  // posted more than once (ascending, each once)
  std::vector<std::int64_t> unexpected;  // posted, not listed (ascending, each once)
  std::vector<int> in_doubt_batches;     // the ledger's in-doubt batches (ascending)
  std::vector<std::int64_t> unproven;    // listed, in no dump, owned by an in-doubt batch
  bool ledger_read = false;              // whether in-doubt batches were given at all

  // Nothing proven wrong: no id missing, duplicated or unexpected (unproven ids aside).
  bool ok() const noexcept { return missing.empty() && duplicated.empty() && unexpected.empty(); }
  // Every id proven posted exactly once: ok() and no id left unproven.
  bool proven() const noexcept { return ok() && unproven.empty(); }
  // A few lines for people: the counts and the first few ids of each problem.
  std::string to_text(std::size_t show = 10) const;
  // One JSON object for machines, with every id of each problem.
  std::string to_json() const;
};

// Compares the source's ids (repeats allowed: the listing may repeat an id) with the dumps.
// `in_doubt`, when given (batch_no -> the ids it owns), turns listed ids that are in no dump but
// owned by an in-doubt batch from missing into unproven.
verification verify_audit(
    std::vector<std::int64_t> source_ids, const std::map<int, std::vector<std::int64_t>>& dumps,
    const std::optional<std::map<int, std::vector<std::int64_t>>>& in_doubt = std::nullopt);

}  // namespace etl
