#include "etl/worker/worker_context.hpp"

#include <stdexcept>

#include "etl/http/url.hpp"

namespace etl {
namespace {

url must_parse(const std::string& text, const char* what) {
  std::string why;
  auto u = parse_url(text, &why);
  if (!u)
    throw std::invalid_argument(std::string(what) + ": " + why);
  return *u;
}

redis_options redis_from(const std::string& text) {
  std::string why;
  auto r = parse_redis_url(text, &why);
  if (!r)
    throw std::invalid_argument("ETL_REDIS_URL: " + why);
  return *r;
}

db_pool::options db_options(const settings& s) {
  db_pool::options o;
  o.url = s.database_url;
  o.connections = 4;
  return o;
}

}  // namespace

worker_context::worker_context(net::any_io_executor ex, settings cfg, job_queue_options queue_opts)
    : ex_(ex),
      cfg_(std::move(cfg)),
      source_(ex, must_parse(cfg_.source_url, "ETL_SOURCE_URL").origin(), client_options(cfg_)),
      db_(db_options(cfg_)),
      tasks_(db_),
      ledger_(db_),
      queue_(redis_from(cfg_.redis_url), std::move(queue_opts)) {
  const auto home = must_parse(cfg_.home_url, "ETL_HOME_URL");
  home_target_ = home.target;
  if (home.origin() != must_parse(cfg_.source_url, "ETL_SOURCE_URL").origin()) {
    home_ = std::make_unique<http_client>(ex, home.origin(), client_options(cfg_));
  }
}

}  // namespace etl
