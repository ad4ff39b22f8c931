#include "etl/jobs/plan_message.hpp"

#include "etl/core/uuid.hpp"

namespace etl {

job_fields encode(const plan_message& m) {
  return {{"type", "plan"},
          {"v", std::to_string(plan_message::version)},
          {"task", m.task_id},
          {"audit", m.audit ? "1" : "0"},
          {"pipeline", m.pipeline}};
}

message_result<plan_message> decode_plan_message(const job_fields& fields) {
  detail::field_reader in(fields, job_type::plan, plan_message::version);
  plan_message m;
  m.task_id = in.text("task");
  m.audit = in.flag("audit");
  m.pipeline = in.text_since(2, "pipeline", "animals");
  if (in.error())
    return *in.error();
  if (m.pipeline.empty())
    return message_error{"plan job: field 'pipeline' is empty"};
  if (!is_uuid(m.task_id))
    return message_error{"plan job: task '" + m.task_id + "' is not a uuid"};
  return m;
}

}  // namespace etl
