#include "etl/test/raw_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include <boost/asio/error.hpp>

#include "etl/core/error.hpp"

namespace etl::test {
namespace {

error_code last_error() {
  return error_code(errno, boost::system::system_category());
}

}  // namespace

result<raw_connection> raw_connection::open(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return last_error();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const auto ec = last_error();
    ::close(fd);
    return ec;
  }
  return raw_connection(fd);
}

raw_connection::raw_connection(raw_connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

raw_connection& raw_connection::operator=(raw_connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

raw_connection::~raw_connection() {
  close();
}

void raw_connection::close() {
  if (fd_ >= 0)
    ::close(std::exchange(fd_, -1));
}

error_code raw_connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return last_error();
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

long raw_connection::read_some(std::chrono::steady_clock::time_point deadline, error_code& ec) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ec = make_error_code(errc::timeout);
      return -1;
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0) {
      ec = last_error();
      return -1;
    }
    if (ready == 0)
      continue;  // the deadline check above ends the loop
    char chunk[16384];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ec = last_error();
      return -1;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return n;
  }
}

result<raw_reply> raw_connection::read_reply(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    error_code ec;
    const auto n = read_some(deadline, ec);
    if (n == 0)
      return make_error_code(net::error::eof);
    if (n < 0)
      return ec;
  }
  raw_reply reply;
  reply.head = buffer_.substr(0, head_end + 2);
  if (reply.head.size() > 12)
    reply.status = std::atoi(reply.head.c_str() + 9);  // "HTTP/1.1 200 ..."
  std::size_t length = 0;
  for (std::size_t at = 0; (at = reply.head.find("\r\n", at)) != std::string::npos;) {
    at += 2;
    constexpr std::string_view name = "content-length:";
    std::string line = reply.head.substr(at, name.size());
    for (auto& c : line)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (line == name)
      length = std::strtoull(reply.head.c_str() + at + name.size(), nullptr, 10);
  }
  const std::size_t body_start = head_end + 4;
  while (buffer_.size() < body_start + length) {
    error_code ec;
    const auto n = read_some(deadline, ec);
    if (n == 0)
      return make_error_code(net::error::eof);
    if (n < 0)
      return ec;
  }
  reply.body = buffer_.substr(body_start, length);
  buffer_.erase(0, body_start + length);
  return reply;
}

bool raw_connection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    error_code ec;
    const auto n = read_some(deadline, ec);
    if (n == 0)
      return true;
    if (n < 0)
      return ec != errc::timeout;  // a reset counts as closed
    buffer_.clear();
  }
}

}  // namespace etl::test
