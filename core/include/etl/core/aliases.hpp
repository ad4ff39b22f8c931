// The short names the whole code base uses for Boost namespaces and result types.
//
// Only namespace declarations live here, so including this header costs nothing: Beast stays
// behind the .cpp files that need it.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace boost::asio {}
namespace boost::beast::http {}
namespace boost::json {}

namespace etl {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;

using error_code = boost::system::error_code;

// An expected failure is a value: either a T or the error_code that says why not.
template <class T>
using result = boost::system::result<T, error_code>;

}  // namespace etl
