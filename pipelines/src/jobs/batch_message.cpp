#include "etl/jobs/batch_message.hpp"

#include <limits>

#include <boost/json/parse.hpp>

#include "etl/core/uuid.hpp"
#include "etl/pipelines/records.hpp"

namespace etl {

job_fields encode(const batch_message& m) {
  return {{"type", "batch"},
          {"v", std::to_string(batch_message::version)},
          {"task", m.task_id},
          {"batch", std::to_string(m.batch_no)},
          {"first_page", std::to_string(m.first_page)},
          {"last_page", std::to_string(m.last_page)},
          {"audit", m.audit ? "1" : "0"},
          {"pipeline", m.pipeline},
          {"params", m.params},
          {"task_date", m.task_date}};
}

message_result<batch_message> decode_batch_message(const job_fields& fields) {
  constexpr std::int64_t int_max = std::numeric_limits<int>::max();
  detail::field_reader in(fields, job_type::batch, batch_message::version);
  batch_message m;
  m.task_id = in.text("task");
  m.batch_no = static_cast<int>(in.integer("batch", 0, int_max));
  m.first_page = static_cast<int>(in.integer("first_page", 1, int_max));
  m.last_page = static_cast<int>(in.integer("last_page", 1, int_max));
  m.audit = in.flag("audit");
  m.pipeline = in.text_since(2, "pipeline", "animals");
  m.params = in.text_since(2, "params", "{}");
  m.task_date = in.text_since(3, "task_date", "");
  if (in.error())
    return *in.error();
  if (m.pipeline.empty())
    return message_error{"batch job: field 'pipeline' is empty"};
  boost::system::error_code ec;
  const auto params = boost::json::parse(m.params, ec);
  if (ec || !params.is_object())
    return message_error{"batch job: field 'params' is not a JSON object"};
  if (in.version() >= 3 && !is_date(m.task_date))
    return message_error{"batch job: task_date '" + m.task_date + "' is not YYYY-MM-DD"};
  if (!is_uuid(m.task_id))
    return message_error{"batch job: task '" + m.task_id + "' is not a uuid"};
  if (m.last_page < m.first_page) {
    return message_error{"batch job: pages " + std::to_string(m.first_page) + ".." +
                         std::to_string(m.last_page) + " are an empty range"};
  }
  return m;
}

}  // namespace etl
