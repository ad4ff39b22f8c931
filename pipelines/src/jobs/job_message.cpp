#include "etl/jobs/job_message.hpp"

#include <charconv>
#include <limits>
#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace etl {

std::string_view to_string(job_type type) noexcept {
  switch (type) {
    case job_type::plan:
      return "plan";
    case job_type::batch:
      return "batch";
  }
  return "unknown";
}

void throw_exception_from_error(const message_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}

message_result<job_type> job_type_of(const job_fields& fields) {
  auto it = fields.find("type");
  if (it == fields.end())
    return message_error{"job without a type"};
  if (it->second == "plan")
    return job_type::plan;
  if (it->second == "batch")
    return job_type::batch;
  return message_error{"unknown job type '" + it->second + "'"};
}

std::string task_of(const job_fields& fields) {
  auto it = fields.find("task");
  return it == fields.end() ? std::string{} : it->second;
}

namespace detail {

field_reader::field_reader(const job_fields& fields, job_type type, int version)
    : fields_(fields), type_(type) {
  auto t = job_type_of(fields);
  if (!t) {
    fail(t.error().message);
    return;
  }
  if (*t != type) {
    fail("the entry is a " + std::string(to_string(*t)) + " job");
    return;
  }
  // No `v`: queued before messages had versions; those entries have version 1's fields.
  if (fields.find("v") == fields.end())
    return;
  const auto v = integer("v", 1, std::numeric_limits<int>::max());
  if (!error_ && v > version) {
    fail("version " + std::to_string(v) + " is newer than this binary reads (" +
         std::to_string(version) + "): run one version of etl-server and etl-worker");
  }
  version_ = static_cast<int>(v);
}

const std::string* field_reader::find(std::string_view name) {
  auto it = fields_.find(std::string(name));
  if (it == fields_.end()) {
    fail("field '" + std::string(name) + "' is missing");
    return nullptr;
  }
  return &it->second;
}

void field_reader::fail(std::string what) {
  if (!error_)
    error_ = message_error{std::string(to_string(type_)) + " job: " + std::move(what)};
}

std::string field_reader::text(std::string_view name) {
  const auto* s = find(name);
  return s ? *s : std::string{};
}

std::string field_reader::text_since(int since, std::string_view name, std::string fallback) {
  if (version_ < since)
    return fallback;
  return text(name);
}

std::int64_t field_reader::integer(std::string_view name, std::int64_t min, std::int64_t max) {
  const auto* s = find(name);
  if (!s)
    return min;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc{} || end != s->data() + s->size() || v < min || v > max) {
    fail("field '" + std::string(name) + "' is not a number in [" + std::to_string(min) + ", " +
         std::to_string(max) + "]: '" + *s + "'");
    return min;
  }
  return v;
}

bool field_reader::flag(std::string_view name) {
  const auto* s = find(name);
  if (!s)
    return false;
  if (*s != "0" && *s != "1")
    fail("field '" + std::string(name) + "' is not 0 or 1: '" + *s + "'");
  return *s == "1";
}

}  // namespace detail

}  // namespace etl
