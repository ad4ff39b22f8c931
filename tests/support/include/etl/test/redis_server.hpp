// A real redis-server for integration tests: started on a free loopback port with a data folder
// of its own, ready (answering PING) when the constructor returns, and stopped with its folder
// deleted by the destructor.
//
// `stop` / `start` / `restart` keep the port and the folder, so with `appendonly` the data
// survives a restart (and even `kill`, since every write is fsynced). The server is started with
// plain fork/exec (redirected to <dir>/redis.log); it dies with the test process
// (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace etl::test {

struct redis_server_options {
  bool appendonly = false;  // AOF with appendfsync always: data survives stop/kill + start
  std::chrono::milliseconds ready_timeout{10'000};  // start-up until PING answers PONG
};

class redis_server {
 public:
  // Starts redis-server (found on PATH). Throws std::runtime_error, with the reason and the
  // tail of its log, when it does not answer PING within ready_timeout (a test set-up failure).
  explicit redis_server(redis_server_options opts = {});
  // Stops the server (SIGTERM, SIGKILL after 10 s) and deletes its folder.
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // "redis://127.0.0.1:<port>/0"
  std::string url() const;
  const std::string& dir() const noexcept { return dir_; }
  bool running() const noexcept { return pid_ > 0; }
  // The server's process id (-1 when stopped): e.g. to SIGSTOP it, a Redis that hangs.
  pid_t pid() const noexcept { return pid_; }

  // SIGTERM (Redis flushes its AOF and exits), waiting up to 10 s before SIGKILL. No-op when
  // stopped.
  void stop();
  // SIGKILL: a crash. No-op when stopped.
  void kill();
  // Starts again on the same port and folder; throws like the constructor. No-op when running.
  void start();
  void restart() {
    stop();
    start();
  }

  // Sends "PING" on a fresh connection: true when "+PONG" comes back within `timeout`.
  bool ping(std::chrono::milliseconds timeout) const;

 private:
  bool launch();  // fork/exec and wait for PONG; false when it exited early (port taken)
  void terminate(int sig);
  // Connects, writes `request`, reads until `until` arrives or `timeout` passes: what was read.
  std::string exchange(std::string_view request, std::string_view until,
                       std::chrono::milliseconds timeout) const;

  redis_server_options opts_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace etl::test
