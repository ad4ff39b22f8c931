// The simulators' HTTP/1.1 server: one io_context per thread, a coroutine per connection,
// keep-alive, a timeout on every read and write, chaos pauses and trickles on timers (no thread
// ever sleeps). Beast stays in server.cpp; the application logic is a sim_service (service.hpp):
// animals-sim's sim_app, or one of the upstream simulators built on sim_upstream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "etl/core/aliases.hpp"
#include "etl/sim/service.hpp"

namespace etl {

class sim_server {
 public:
  // Binds and listens on the service's host and port (port 0: a free one). Fails with the
  // system's error: an address that does not resolve, a port in use, no permission. The service
  // must outlive the server.
  static result<std::unique_ptr<sim_server>> open(sim_service& app);

  ~sim_server();
  sim_server(const sim_server&) = delete;
  sim_server& operator=(const sim_server&) = delete;

  std::string host() const;    // the bound address, e.g. "127.0.0.1"
  std::uint16_t port() const;  // the bound port (the chosen one when asked for 0)
  unsigned threads() const;    // the event loop threads run() uses

  // Serves until stop(), SIGINT or SIGTERM, using the calling thread and threads()-1 more;
  // returns when every thread has stopped.
  void run();
  // Stops serving: thread-safe, callable from any thread, before or during run().
  void stop() noexcept;

 private:
  struct impl;
  explicit sim_server(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace etl
