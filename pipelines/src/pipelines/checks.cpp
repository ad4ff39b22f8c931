#include "etl/pipelines/checks.hpp"

#include <charconv>
#include <unordered_set>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace etl {
namespace {

namespace js = boost::json;

std::string check_name(const check_spec& c) {
  switch (c.kind) {
    case check_kind::not_null:
      return "not_null(" + c.field + ")";
    case check_kind::unique:
      return "unique(" + c.field + ")";
    case check_kind::range: {
      // Shortest text that reads back as the bound: 120, 0.5, -1e+300.
      auto bound = [](const std::optional<double>& v) {
        if (!v)
          return std::string();
        char buf[32];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
        return ec == std::errc{} ? std::string(buf, end) : std::string("?");
      };
      return "range(" + c.field + ", " + bound(c.min) + ".." + bound(c.max) + ")";
    }
  }
  return "?";
}

// Whether `v` fails check `c` (a unique check is counted apart).
bool fails(const check_spec& c, const js::value& v) {
  switch (c.kind) {
    case check_kind::not_null:
      return v.is_null();
    case check_kind::range: {
      if (v.is_null() || !v.is_number())
        return false;  // null is not_null's to count; the transform typed the value
      const auto d = v.to_number<double>();
      return (c.min && d < *c.min) || (c.max && d > *c.max);
    }
    case check_kind::unique:
      return false;
  }
  return false;
}

}  // namespace

std::string batch_quality::blocking_failure() const {
  for (const auto& c : checks) {
    if (c.blocking && !c.passed()) {
      return "check " + c.name + " failed: " + std::to_string(c.failing) + " of " +
             std::to_string(records) + " records" +
             (c.example.empty() ? std::string() : ", e.g. " + c.example);
    }
  }
  return {};
}

js::object batch_quality::to_json() const {
  js::object null_counts;
  for (const auto& [field, n] : nulls)
    null_counts[field] = n;
  js::array list;
  for (const auto& c : checks) {
    list.push_back(js::object{{"check", c.name},
                              {"blocking", c.blocking},
                              {"failing", c.failing},
                              {"passed", c.passed()},
                              {"example", c.example}});
  }
  return {{"records", records}, {"nulls", std::move(null_counts)}, {"checks", std::move(list)}};
}

batch_quality check_batch(const pipeline_spec& spec, std::span<const typed_record> records) {
  batch_quality q;
  q.records = static_cast<std::int64_t>(records.size());
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    std::int64_t n = 0;
    for (const auto& r : records)
      n += r.values[i].is_null() ? 1 : 0;
    q.nulls.emplace_back(spec.fields[i].name, n);
  }
  for (const auto& c : spec.checks) {
    check_outcome out{check_name(c), c.blocking, 0, {}};
    const auto at = field_indexes(spec.fields, std::span(&c.field, 1)).front();
    std::unordered_set<std::string> seen;
    for (const auto& r : records) {
      const auto& v = r.values[at];
      bool bad = fails(c, v);
      if (c.kind == check_kind::unique && !v.is_null())
        bad = !seen.insert(js::serialize(v)).second;
      if (bad) {
        if (out.failing++ == 0)
          out.example = js::serialize(v).substr(0, 200);
      }
    }
    q.checks.push_back(std::move(out));
  }
  return q;
}

}  // namespace etl
