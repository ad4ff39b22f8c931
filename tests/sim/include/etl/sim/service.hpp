// What the simulators' HTTP server (server.hpp) asks of a simulated upstream, and the plain
// request and reply values that cross between them.
//
// Every simulator (animals-sim, spacex-sim, randomuser-sim, crunchbase-sim) is a sim_service:
// the server reads a request, asks admit() for its chaos fate, waits out a pause on a timer, then
// asks handle() for the answer. Both are plain calls, so unit tests drive a simulator without a
// socket, and Beast stays in server.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etl {

class sim_capacity;

// How the server loop must deliver a reply.
enum class sim_delivery {
  normal,
  reset,    // close the connection (with an RST) without answering
  trickle,  // write the serialized answer a few bytes at a time with delays
};

struct sim_reply {
  unsigned status = 200;
  std::string_view content_type = "application/json";
  std::string body;
  std::string location;  // set on a 307 redirect
  sim_delivery delivery = sim_delivery::normal;
  std::string retry_after;  // the Retry-After header, when set
  // Further headers, written in this order (Cache-Control, ETag, an upstream's own ones).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct sim_admission {
  std::optional<sim_reply> early;  // chaos error: send this at once, do not handle the request
  // chaos pause and delays: wait this long (on a timer), then handle
  std::chrono::milliseconds pause{0};
  std::optional<std::uint64_t> request_no;  // the chaos sequence number; unset for / and /sim/*
  bool source_get = false;                  // a request counted in flight (animals-sim)
};

// One request as the server read it. The views point into the server's buffers: valid for the
// duration of the admit() or handle() call only.
struct sim_request {
  std::string_view method;
  std::string_view target;  // path and query, as sent
  std::string_view body;
  std::string_view client;  // the peer's address, e.g. "127.0.0.1" ("" in unit tests)
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  // The first header with this name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const noexcept;
  // The target's path (before '?') and query (after it, "" when none).
  std::string_view path() const noexcept;
  std::string_view query() const noexcept;
};

// Decodes %XX (and '+' as a space in queries); a malformed escape is kept as written, as
// Python's unquote does.
std::string sim_percent_decode(std::string_view s, bool plus_is_space);

// The last value of `name` in a query string, decoded (as Starlette's query_params.get() and
// Express's req.query return it); unset when absent.
std::optional<std::string> sim_query_param(std::string_view query, std::string_view name);

// Where and how the server listens, from the simulator's options.
struct sim_listen_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the system picks a free port
  unsigned threads = 0;    // 0: hardware concurrency
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::milliseconds trickle_delay{25};
  std::string server_name;  // the Server header
};

class sim_service {
 public:
  virtual ~sim_service() = default;

  virtual sim_listen_settings listen_settings() const = 0;
  // Counts the request and draws its chaos fate (an early reply, or a pause before handle()).
  virtual sim_admission admit(const sim_request& request) = 0;
  // The answer to a request after its pause.
  virtual sim_reply handle(const sim_request& request, const sim_admission& admission) = 0;

  // Hooks for the report: a connection accepted; a request with admission.source_get set began
  // (read whole) or ended (answered, or its connection dropped).
  // A capacity-bound upstream (capacity.hpp): when set, the server makes every request that
  // has a chaos number (the API, not "/" or "/sim/*") hold one of its slots after its pause
  // and before handle(). Unset (the default): no slots, no cost.
  virtual sim_capacity* capacity() noexcept { return nullptr; }

  virtual void count_connection() noexcept {}
  virtual void source_get_began() noexcept {}
  virtual void source_get_ended() noexcept {}
};

}  // namespace etl
