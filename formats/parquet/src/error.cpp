#include "etl/parquet/error.hpp"

#include <string>

namespace etl::parquet {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "parquet"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "success";
      case errc::invalid_schema:
        return "invalid Parquet schema";
      case errc::invalid_options:
        return "invalid Parquet writer options";
      case errc::wrong_column_count:
        return "row does not have the schema's number of columns";
      case errc::type_mismatch:
        return "value does not match its column's type";
      case errc::out_of_range:
        return "integer out of its column's range";
      case errc::null_in_required:
        return "null in a required column";
      case errc::invalid_utf8:
        return "string column value is not valid UTF-8";
      case errc::batch_length_mismatch:
        return "columns of a batch have different lengths";
      case errc::compression_failed:
        return "page compression failed";
      case errc::too_large:
        return "page or footer too large for the format";
      case errc::writer_closed:
        return "Parquet writer is closed or broken";
      case errc::not_mergeable:
        return "not a Parquet file of the expected schema and codec";
      case errc::unreadable:
        return "a page that is not one this library writes, or cut short";
    }
    return "unknown parquet error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& parquet_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace etl::parquet
