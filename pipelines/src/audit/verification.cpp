#include "etl/audit/verification.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <boost/json.hpp>

namespace etl {

verification verify_audit(std::vector<std::int64_t> source_ids,
                          const std::map<int, std::vector<std::int64_t>>& dumps,
                          const std::optional<ledger_facts>& ledger) {
  std::sort(source_ids.begin(), source_ids.end());
  source_ids.erase(std::unique(source_ids.begin(), source_ids.end()), source_ids.end());

  std::unordered_map<std::int64_t, int> times;
  verification v;
  v.expected = source_ids.size();
  for (const auto& [batch, ids] : dumps) {
    v.posted += ids.size();
    for (auto id : ids)
      ++times[id];
  }
  std::unordered_set<std::int64_t> doubtful;
  std::unordered_set<std::int64_t> undumped;
  if (ledger) {
    for (const auto& [batch, why_ids] : ledger->undumped) {
      v.undumped_batches.emplace_back(batch, why_ids.first);
      undumped.insert(why_ids.second.begin(), why_ids.second.end());
    }
    v.ledger_read = true;
    v.rejected_without_id = ledger->rejected_without_id;
    for (const auto& [batch, ids] : ledger->in_doubt) {
      v.in_doubt_batches.push_back(batch);
      doubtful.insert(ids.begin(), ids.end());
    }
  }
  for (auto id : source_ids) {
    if (times.contains(id))
      continue;
    if (doubtful.contains(id)) {
      v.unproven.push_back(id);
      continue;
    }
    if (undumped.contains(id)) {
      v.undumped.push_back(id);
      continue;
    }
    if (ledger) {
      if (auto r = ledger->rejected.find(id); r != ledger->rejected.end()) {
        v.rejected.emplace_back(id, r->second);
        continue;
      }
    }
    v.missing.push_back(id);
  }
  for (const auto& [id, n] : times) {
    if (n > 1)
      v.duplicated.push_back(id);
    if (!std::binary_search(source_ids.begin(), source_ids.end(), id))
      v.unexpected.push_back(id);
  }
  std::sort(v.duplicated.begin(), v.duplicated.end());
  std::sort(v.unexpected.begin(), v.unexpected.end());
  return v;
}

namespace {

std::string first_few(const std::vector<std::int64_t>& ids, std::size_t show) {
  std::string s;
  for (std::size_t i = 0; i < ids.size() && i < show; ++i)
    s += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > show)
    s += ", ... (" + std::to_string(ids.size() - show) + " more)";
  return s;
}

}  // namespace

std::string verification::to_text(std::size_t show) const {
  std::string s;
  s += "expected:   " + std::to_string(expected) + "\n";
  s += "posted:     " + std::to_string(posted) + "\n";
  s += "missing:    " + std::to_string(missing.size()) +
       (missing.empty() ? "" : "  [" + first_few(missing, show) + "]") + "\n";
  s += "duplicated: " + std::to_string(duplicated.size()) +
       (duplicated.empty() ? "" : "  [" + first_few(duplicated, show) + "]") + "\n";
  s += "unexpected: " + std::to_string(unexpected.size()) +
       (unexpected.empty() ? "" : "  [" + first_few(unexpected, show) + "]") + "\n";
  if (ledger_read) {
    std::string batches;
    for (std::size_t i = 0; i < in_doubt_batches.size() && i < show; ++i)
      batches += (i ? ", " : "") + std::to_string(in_doubt_batches[i]);
    s += "in doubt:   " + std::to_string(in_doubt_batches.size()) + " batch(es)" +
         (batches.empty() ? "" : " [" + batches + "]") + ", " + std::to_string(unproven.size()) +
         " id(s) in no dump" + (unproven.empty() ? "" : "  [" + first_few(unproven, show) + "]") +
         "\n";
    if (!undumped_batches.empty()) {
      s += "no dump:    " + std::to_string(undumped_batches.size()) +
           " batch(es) home took whose audit dump failed, " + std::to_string(undumped.size()) +
           " id(s)  [" + first_few(undumped, show) + "]";
      for (std::size_t i = 0; i < undumped_batches.size() && i < show; ++i)
        s += "\n  batch " + std::to_string(undumped_batches[i].first) + ": " +
             undumped_batches[i].second;
      s += "\n";
    }
    s += "rejected:   " + std::to_string(rejected.size()) + " bad record(s), never posted";
    for (std::size_t i = 0; i < rejected.size() && i < show; ++i)
      s += "\n  " + std::to_string(rejected[i].first) + ": " + rejected[i].second;
    if (rejected.size() > show)
      s += "\n  ... (" + std::to_string(rejected.size() - show) + " more)";
    if (rejected_without_id > 0)
      s += "\n  and " + std::to_string(rejected_without_id) + " record(s) with no readable id";
    s += "\n";
  } else {
    s += "in doubt:   unknown (the ledger was not read)\n";
    s += "rejected:   unknown (the ledger was not read)\n";
  }
  if (proven())
    s += "OK: every id posted exactly once\n";
  else if (accounted())
    s += "REJECTED: every other id posted exactly once, but " + std::to_string(rejected.size()) +
         " record(s) were bad at the source and never posted (reasons above)\n";
  else if (ok() && !unproven.empty())
    s += "IN DOUBT: nothing proven missing or duplicated, but " + std::to_string(unproven.size()) +
         " id(s) were in a POST whose answer no worker recorded; check home for them\n";
  else if (ok())
    s += "UNPROVEN: nothing proven missing or duplicated, but " + std::to_string(undumped.size()) +
         " id(s) home took have no audit dump (reasons above)\n";
  else
    s += "FAILED\n";
  return s;
}

std::string verification::to_json() const {
  auto ids = [](const std::vector<std::int64_t>& v) {
    return boost::json::array(v.begin(), v.end());
  };
  boost::json::object o;
  o["ok"] = proven();
  o["nothing_proven_wrong"] = ok();
  o["accounted"] = accounted();
  o["expected"] = expected;
  o["posted"] = posted;
  o["missing"] = missing.size();
  o["duplicated"] = duplicated.size();
  o["unexpected"] = unexpected.size();
  o["missing_ids"] = ids(missing);
  o["duplicated_ids"] = ids(duplicated);
  o["unexpected_ids"] = ids(unexpected);
  if (ledger_read) {
    o["in_doubt_batches"] = boost::json::array(in_doubt_batches.begin(), in_doubt_batches.end());
    o["unproven"] = unproven.size();
    o["unproven_ids"] = ids(unproven);
    boost::json::array rej;
    for (const auto& [id, reason] : rejected)
      rej.push_back(boost::json::object{{"id", id}, {"reason", reason}});
    o["rejected"] = rejected.size();
    o["rejected_records"] = std::move(rej);
    o["rejected_without_id"] = rejected_without_id;
    boost::json::array und;
    for (const auto& [batch, reason] : undumped_batches)
      und.push_back(boost::json::object{{"batch", batch}, {"reason", reason}});
    o["undumped_batches"] = std::move(und);
    o["undumped_ids"] = ids(undumped);
  } else {
    o["in_doubt_batches"] = nullptr;
    o["rejected"] = nullptr;
  }
  return boost::json::serialize(o);
}

}  // namespace etl
