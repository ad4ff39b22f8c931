#include "etl/test/aged_task.hpp"

#include <pqxx/transaction>

namespace etl::test {

std::string insert_aged_task(pqxx::connection& c, const std::string& status, const std::string& age,
                             int ids) {
  pqxx::work tx(c);
  const bool finished = status == "succeeded" || status == "failed" || status == "cancelled";
  const auto id = tx.exec_params1(
                        "INSERT INTO tasks (status, created_at, started_at, finished_at) "
                        "VALUES ($1, now() - $2::interval, now() - $2::interval, "
                        "CASE WHEN $3 THEN now() - $2::interval END) RETURNING id",
                        status, age, finished)[0]
                      .as<std::string>();
  tx.exec_params(
      "INSERT INTO batches (task_id, batch_no, first_page, last_page) VALUES ($1, 0, 1, 10)", id);
  tx.exec_params(
      "INSERT INTO task_ids (task_id, animal_id, batch_no) "
      "SELECT $1, n, 0 FROM generate_series(1, $2) n",
      id, ids);
  tx.exec_params(
      "INSERT INTO rejected_records (task_id, batch_no, animal_id, reason) "
      "VALUES ($1, 0, 7, 'bad')",
      id);
  tx.commit();
  return id;
}

}  // namespace etl::test
