// The check behind etl-verify: every id the source lists was posted exactly once, and nothing
// else was posted. Pure logic over id lists, so it is unit-tested without files or network.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace etl {

struct verification {
  std::size_t expected = 0;              // distinct ids the source lists
  std::size_t posted = 0;                // ids in the dumps, repeats included
  std::vector<std::int64_t> missing;     // listed, never posted (ascending)
  std::vector<std::int64_t> duplicated;  // posted more than once (ascending, each once)
  std::vector<std::int64_t> unexpected;  // posted, not listed (ascending, each once)

  bool ok() const noexcept { return missing.empty() && duplicated.empty() && unexpected.empty(); }
  // A few lines for people: the counts and the first few ids of each problem.
  std::string to_text(std::size_t show = 10) const;
  // One JSON object for machines, with every id of each problem.
  std::string to_json() const;
};

// Compares the source's ids (repeats allowed: the listing may repeat an id) with the dumps.
verification verify_audit(std::vector<std::int64_t> source_ids,
                          const std::map<int, std::vector<std::int64_t>>& dumps);

}  // namespace etl
