#include "etl/core/error.hpp"

namespace etl {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "etl"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "success";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::invalid_url:
        return "invalid URL";
      case errc::invalid_config:
        return "invalid configuration value";
      case errc::parse_error:
        return "body is not the expected JSON";
      case errc::validation_failed:
        return "record failed validation";
      case errc::http_status:
        return "unexpected HTTP status";
      case errc::retries_exhausted:
        return "all retry attempts failed";
      case errc::timeout:
        return "timed out";
      case errc::deadline_exceeded:
        return "request deadline exceeded";
      case errc::cancelled:
        return "cancelled";
      case errc::body_too_large:
        return "body too large";
    }
    return "unknown etl error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& etl_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace etl
