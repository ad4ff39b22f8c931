// Data-quality checks of a batch (a spec's `checks`): each counts the records that fail it
// (a null where none may be, a value seen twice, a number outside its range) and says whether
// the batch passes; a failed blocking check fails the batch before anything is written, a
// failed warning is recorded and the batch goes on. Every batch also counts the nulls of each
// column. The result is stored on the batch (batches.quality) and shown on its task.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/json/object.hpp>

#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec.hpp"

namespace etl {

struct check_outcome {
  std::string name;  // "not_null(email)", "unique(email)", "range(dob_age, 0..120)"
  bool blocking = false;
  std::int64_t failing = 0;  // records that fail the check
  std::string example;       // one failing value, as JSON text (empty when none)

  bool passed() const noexcept { return failing == 0; }
};

struct batch_quality {
  std::int64_t records = 0;
  std::vector<std::pair<std::string, std::int64_t>> nulls;  // per field, in field order
  std::vector<check_outcome> checks;

  // The first failed blocking check as one line ("check unique(email) failed: 3 of 500
  // records, e.g. \"a@b\""), or empty.
  std::string blocking_failure() const;
  // {"records", "nulls": {field: n}, "checks": [{"check", "blocking", "failing", "passed",
  // "example"}]}: what batches.quality holds.
  boost::json::object to_json() const;
};

// `spec`'s checks counted record by record, for a batch read page by page: the same result as
// check_batch over all the records added. A unique check remembers each value it has seen.
class quality_counter {
 public:
  explicit quality_counter(const pipeline_spec& spec);

  // Counts one record (a row of spec.fields).
  void add(const typed_record& record);
  // What the records added so far show.
  const batch_quality& quality() const noexcept { return q_; }

 private:
  const pipeline_spec& spec_;
  batch_quality q_;
  std::vector<std::size_t> check_at_;                  // per check, its field's position
  std::vector<std::unordered_set<std::string>> seen_;  // per check, the values a unique one saw
};

// Runs `spec`'s checks on a batch's typed `records` (rows of spec.fields).
batch_quality check_batch(const pipeline_spec& spec, std::span<const typed_record> records);

}  // namespace etl
