// Separate compilation: the one translation unit that holds Asio's and Beast's definitions.
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION are PUBLIC on etl_common,
// so every other file sees declarations only and compiles faster.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
