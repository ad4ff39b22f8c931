// A task written straight into the database with a chosen age, for tests of what happens to old
// rows (retention): one batch, `ids` claimed ids and one rejected record hang off it.
#pragma once

#include <string>

#include <pqxx/connection>

namespace etl::test {

// Inserts a task in `status` whose created_at (and, when finished, started_at and finished_at)
// lie `age` ago (a Postgres interval such as "40 days"); returns its id.
std::string insert_aged_task(pqxx::connection& c, const std::string& status, const std::string& age,
                             int ids = 3);

}  // namespace etl::test
