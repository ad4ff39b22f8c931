#include "etl/pipelines/checks.hpp"

#include <charconv>

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

quality_counter::quality_counter(const pipeline_spec& spec) : spec_(spec) {
  for (const auto& f : spec.fields)
    q_.nulls.emplace_back(f.name, 0);
  for (const auto& c : spec.checks) {
    q_.checks.push_back({check_name(c), c.blocking, 0, {}});
    check_at_.push_back(field_indexes(spec.fields, std::span(&c.field, 1)).front());
  }
  seen_.resize(spec.checks.size());
}

void quality_counter::add(const typed_record& record) {
  ++q_.records;
  for (std::size_t i = 0; i < q_.nulls.size(); ++i)
    q_.nulls[i].second += record.values[i].is_null() ? 1 : 0;
  for (std::size_t k = 0; k < spec_.checks.size(); ++k) {
    const auto& c = spec_.checks[k];
    const auto& v = record.values[check_at_[k]];
    bool bad = fails(c, v);
    if (c.kind == check_kind::unique && !v.is_null())
      bad = !seen_[k].insert(js::serialize(v)).second;
    auto& out = q_.checks[k];
    if (bad && out.failing++ == 0)
      out.example = js::serialize(v).substr(0, 200);
  }
}

batch_quality check_batch(const pipeline_spec& spec, std::span<const typed_record> records) {
  quality_counter counter(spec);
  for (const auto& r : records)
    counter.add(r);
  return counter.quality();
}

}  // namespace etl
