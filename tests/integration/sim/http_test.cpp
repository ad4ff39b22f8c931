#include "etl/test/http.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "etl/core/error.hpp"

namespace etl::test {
namespace {

using namespace std::chrono_literals;
using tcp = net::ip::tcp;

TEST(test_http, a_closed_port_is_refused) {
  std::uint16_t port = 0;
  {
    net::io_context context;
    tcp::acceptor acceptor(context, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    port = acceptor.local_endpoint().port();
  }  // closed again: nobody listens there now
  const auto reply = http_get(port, "/", 2s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), net::error::connection_refused);
}

TEST(test_http, a_silent_server_times_out) {
  // The kernel completes the handshake on the backlog; nobody ever answers.
  net::io_context context;
  tcp::acceptor acceptor(context, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  const auto start = std::chrono::steady_clock::now();
  const auto reply = http_get(acceptor.local_endpoint().port(), "/", 300ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), errc::timeout);
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(test_http, headers_are_found_case_insensitively) {
  http_reply reply;
  reply.headers = {{"Content-Type", "text/html"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(reply.header("content-type"), "text/html");
  EXPECT_EQ(reply.header("X-A"), "1");
  EXPECT_EQ(reply.header("missing"), "");
}

}  // namespace
}  // namespace etl::test
