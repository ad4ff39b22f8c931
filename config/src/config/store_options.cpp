#include "etl/config/store_options.hpp"

#include <stdexcept>

namespace etl {

db_pool::options database_options(const settings& s, std::size_t connections) {
  db_pool::options o;
  o.url = s.database_url;
  o.connections = connections;
  return o;
}

redis_options redis_options_for(const settings& s) {
  std::string why;
  auto r = parse_redis_url(s.redis_url, &why);
  if (!r)
    throw std::invalid_argument("ETL_REDIS_URL: " + why);
  return *r;
}

}  // namespace etl
