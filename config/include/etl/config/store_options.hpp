// The options of the two stores as the settings ask for them: one place for etl-server and
// etl-worker to turn ETL_DATABASE_URL and ETL_REDIS_URL into a db_pool and a job_queue.
#pragma once

#include "etl/config/settings.hpp"
#include "etl/db/db_pool.hpp"
#include "etl/queue/redis_connection.hpp"

namespace etl {

// Postgres pool options for ETL_DATABASE_URL, `connections` connections.
db_pool::options database_options(const settings& s, std::size_t connections = 4);

// Redis options for ETL_REDIS_URL. Throws std::invalid_argument naming the variable when the
// URL does not parse (a start-up error).
redis_options redis_options_for(const settings& s);

}  // namespace etl
