#include "etl/test/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace etl::test {
namespace {

using clock = std::chrono::steady_clock;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A port the kernel just handed out: free now, though another process may take it before
// redis-server binds it (launch then fails and a new port is tried).
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind to a free port: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string log_tail(const std::string& dir) {
  std::ifstream in(dir + "/redis.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  std::string out;
  for (std::size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

}  // namespace

redis_server::redis_server(redis_server_options opts) : opts_(opts) {
  std::string pattern = (std::filesystem::temp_directory_path() / "etl-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  dir_ = pattern;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    if (launch()) {
      return;
    }
  }
  const std::string tail = log_tail(dir_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  throw std::runtime_error("redis-server did not start; log tail:\n" + tail);
}

redis_server::~redis_server() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_server::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

void redis_server::start() {
  if (running()) {
    return;
  }
  if (!launch()) {
    throw std::runtime_error("redis-server did not restart on port " + std::to_string(port_) +
                             "; log tail:\n" + log_tail(dir_));
  }
}

void redis_server::stop() {
  terminate(SIGTERM);
}

void redis_server::kill() {
  terminate(SIGKILL);
}

void redis_server::terminate(int sig) {
  if (!running()) {
    return;
  }
  ::kill(pid_, sig);
  const auto deadline = clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

bool redis_server::launch() {
  // Everything is prepared before fork: the child of a multi-threaded test may only make
  // async-signal-safe calls until exec.
  std::vector<std::string> args{"redis-server",
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--dir",
                                dir_,
                                "--logfile",
                                dir_ + "/redis.log",
                                "--daemonize",
                                "no",
                                "--appendonly",
                                opts_.appendonly ? "yes" : "no",
                                "--appendfsync",
                                "always"};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  const auto deadline = clock::now() + opts_.ready_timeout;
  while (clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    // The answer must come from our own process: when the port was taken meanwhile, another
    // Redis may be answering there while ours is about to exit.
    const std::string mine = "process_id:" + std::to_string(pid_) + "\r\n";
    if (exchange("INFO server\r\n", mine, std::chrono::milliseconds(200)).find(mine) !=
            std::string::npos &&
        ping(std::chrono::milliseconds(200))) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  terminate(SIGKILL);
  return false;
}

bool redis_server::ping(std::chrono::milliseconds timeout) const {
  return exchange("PING\r\n", "\r\n", timeout).starts_with("+PONG\r\n");
}

std::string redis_server::exchange(std::string_view request, std::string_view until,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return {};
  }
  auto wait = [&](short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left)) == 1 && (p.revents & events) != 0;
  };
  std::string answer;
  auto addr = loopback(port_);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc == 0 || (errno == EINPROGRESS && wait(POLLOUT))) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0 && ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      while (answer.find(until) == std::string::npos && wait(POLLIN)) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
          break;
        }
        answer.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  return answer;
}

}  // namespace etl::test
