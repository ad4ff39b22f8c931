// The HTTP/1.1 server under etl-server: accepts connections, reads requests with limits and
// timeouts, hands each to a handler coroutine and writes its reply. Beast stays in the .cpp;
// handlers see plain `server_request` and `server_reply` values.
//
// Limits (each answered with a JSON error, then the connection is closed): a body above
// `max_body_bytes` gets 413, headers above `max_header_bytes` 431, a malformed request 400.
// Timeouts (slowloris): a request must arrive whole within `read_timeout` of its first byte (a
// new connection's first request within `read_timeout` of the connect), a kept-alive connection
// may wait `idle_timeout` for its next request, and writing a reply may take `write_timeout`;
// past any of them the connection is closed. Above `max_connections` a new connection is
// answered 503 (JSON, `Retry-After: 1`) without being read, and closed; during a flood of them
// (more than 64 such answers under way) it is closed without an answer. Out of file
// descriptors (EMFILE, ENFILE), new connections wait in the backlog: accepting pauses 100 ms at
// a time, logged once per episode, while open connections are served.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "etl/core/aliases.hpp"
#include "etl/server/server_message.hpp"

namespace etl {

using request_handler = std::function<net::awaitable<server_reply>(server_request)>;

struct http_server_options {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{10'000};  // one whole request, from its first byte
  std::chrono::milliseconds idle_timeout{30'000};  // between requests on a kept-alive connection
  std::chrono::milliseconds write_timeout{10'000};
  std::size_t max_connections = 2'048;
  std::string server_name = "etl-server";
  // Told the status of every answer given without the handler: 400, 413 or 431 for a request
  // that cannot be read whole, 503 for a connection over the cap. Runs on the connection's
  // strand; must be quick and thread-safe.
  std::function<void(unsigned status)> on_refused;
};

class http_server {
 public:
  // Binds and listens on host:port (port 0: the system picks one). Throws std::system_error
  // when the address cannot be bound (a start-up error).
  http_server(net::any_io_executor ex, const std::string& host, std::uint16_t port,
              http_server_options opts, request_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const noexcept;
  // Starts accepting. Each connection runs on a strand of its own.
  void start();
  // Stops accepting; connections finish the request in hand and close. `on_idle` runs once
  // every connection has closed.
  void stop(std::function<void()> on_idle = {});
  std::size_t connections() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace etl
