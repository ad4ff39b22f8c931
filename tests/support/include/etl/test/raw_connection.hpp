// A raw TCP connection to 127.0.0.1 for tests that must misbehave on purpose: send a request in
// pieces (slowloris), keep a connection idle, send oversized headers, or read an answer without
// an HTTP client's help. Every read has a deadline; nothing here blocks without one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "etl/core/aliases.hpp"

namespace etl::test {

// One HTTP/1.1 answer as read off the wire.
struct raw_reply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

class raw_connection {
 public:
  // Connects (blocking, bounded by the kernel: loopback answers at once). Fails with the
  // connect error, e.g. connection_refused when nothing listens.
  static result<raw_connection> open(std::uint16_t port);

  raw_connection(raw_connection&& other) noexcept;
  raw_connection& operator=(raw_connection&& other) noexcept;
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  ~raw_connection();

  // Writes all of `bytes`. Fails with the write error (broken pipe, reset) once the peer closed.
  error_code send(std::string_view bytes);

  // Reads one whole answer (headers, then Content-Length bytes) within `timeout`. Fails with
  // errc::timeout, or eof / connection_reset when the peer closed before a whole answer.
  result<raw_reply> read_reply(std::chrono::milliseconds timeout);

  // Waits until the peer closes the connection (EOF or reset), discarding what arrives; returns
  // whether it did within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);

  // Closes the connection now.
  void close();

 private:
  explicit raw_connection(int fd) : fd_(fd) {}
  // Reads what is available before `deadline` into buffer_; 0 on EOF, -1 on error or timeout
  // (`ec` says which).
  long read_some(std::chrono::steady_clock::time_point deadline, error_code& ec);

  int fd_ = -1;
  std::string buffer_;  // read but not yet consumed
};

}  // namespace etl::test
