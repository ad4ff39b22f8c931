#include "etl/queue/redis_error.hpp"

#include <string>

namespace etl {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }

  std::string message(int ev) const override {
    switch (static_cast<redis_errc>(ev)) {
      case redis_errc::ok:
        return "success";
      case redis_errc::connect_failed:
        return "could not connect to Redis";
      case redis_errc::backing_off:
        return "Redis unreachable, waiting before the next connect attempt";
      case redis_errc::connection_lost:
        return "connection to Redis lost";
      case redis_errc::timeout:
        return "Redis did not answer in time";
      case redis_errc::server_error:
        return "Redis answered with an error";
      case redis_errc::unexpected_reply:
        return "Redis answer has an unexpected shape";
      case redis_errc::protocol_error:
        return "not a valid RESP answer";
    }
    return "unknown redis error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& redis_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace etl
