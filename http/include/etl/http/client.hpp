// The HTTP client engine: one `http_client` per origin (scheme, host, port) with a keep-alive
// connection pool, a timeout on every step, retries with backoff, and hedged GETs.
//
// Beast stays inside client.cpp; callers see plain requests and responses. The client is safe to
// use from many coroutines on many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "etl/core/aliases.hpp"
#include "etl/http/client_metrics.hpp"
#include "etl/http/retry_policy.hpp"
#include "etl/http/url.hpp"

namespace etl {

struct http_client_options {
  std::size_t max_connections = 64;  // open connections to the origin, busy or idle
  // An idle connection older than this is closed, not reused: below the 5 s keep-alive timeout
  // of common Python servers, so we do not write into a socket they are closing.
  milliseconds idle_timeout{4'000};
  milliseconds connect_timeout{2'000};  // resolve + TCP connect
  milliseconds get_timeout{10'000};     // one GET attempt: write, then read the whole answer
  // One POST attempt. Above the source's longest pause (15 s): a POST that may still land is
  // never abandoned and sent again.
  milliseconds post_timeout{30'000};
  milliseconds request_deadline{120'000};  // a whole request, retries and backoff included
  std::size_t max_body_bytes = 8 << 20;    // larger answers fail with errc::body_too_large
  // Requests through this client at once, 0 for no limit. A request holds its place through its
  // retries; the others wait their turn, first come first served, and their deadline starts when
  // they get it. A hedged copy needs a place of its own, free when its hedge delay passes: with
  // every place taken the upstream is saturated, its latency is queueing, and the copy is not
  // sent (hedges_skipped) unless the request is an outlier beyond hedge_max_delay (see `hedge`).
  // One client per origin per process makes it a process limit.
  std::size_t max_in_flight = 0;
  // With max_in_flight set: the limit moves between `adaptive_floor` and max_in_flight after the
  // round trips of answered attempts, Vegas-style (etl::adaptive_limit): up while they stay near
  // the least seen, down when the upstream queues them. It starts at four times the floor (16 by
  // default, within max_in_flight) and doubles each round until the first queue (slow start).
  bool adaptive_in_flight = false;
  std::size_t adaptive_floor = 4;
  retry_options retry;

  // Hedging of GETs: after `hedge_delay` without an answer (counted from when the copy was
  // written, not while it waited for a pooled connection) a second copy goes out on another
  // connection. Unset: follow the recent p95 latency, within [hedge_min_delay, hedge_max_delay].
  // With max_in_flight set, a copy goes out only if a place of the budget is free (see there);
  // when none is, the hedge is tried again after another hedge delay, and once the request has
  // waited hedge_max_delay (no queue explains that: a paused request) the copy queues for a place.
  bool hedge = true;
  std::optional<milliseconds> hedge_delay;
  milliseconds hedge_min_delay{50};
  milliseconds hedge_max_delay{1'000};
  double hedge_budget = 0.1;  // hedges sent at most this fraction of requests (plus a burst of 100)
  int max_hedges = 2;         // copies beyond the first, each after another hedge delay
  std::string user_agent = "animals-etl";
  // The executor runs one handler at a time (an io_context run by a single thread) and requests
  // are awaited from coroutines on it: a request then runs inside its caller's coroutine instead
  // of a coroutine and strand of its own, a tenth or more of its CPU saved. Never set it when
  // handlers may run on two threads at once: the request's timers and hedges would race it.
  bool single_threaded = false;

  // Sent with every request of this client, after the standard ones: e.g. an upstream's API key
  // ("X-cb-user-key"). The client never logs header values, so a secret may travel here.
  std::vector<std::pair<std::string, std::string>> headers;
  // Query parameters whose values the client's log lines show as "***" (a key sent as
  // `?user_key=...`).
  std::vector<std::string> redact_query;

  // Called before every attempt, retries included, on the request's strand; the attempt waits
  // for it. An error fails the request at once with that error (http_failure::error), without
  // the attempt. A pool-wide rate limit hooks in here (etl::redis_rate_limiter). With `admit`
  // set, GETs are not hedged: a hedged copy is one more request the upstream counts, and
  // admitting it late would defeat the hedge's point.
  std::function<net::awaitable<error_code>()> admit;
};

struct http_response {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string location;  // the Location header, if any (where a 3xx redirects)
  int attempts = 0;      // attempts it took, the answered one included (hedge copies not counted)
  int hedges = 0;        // hedged copies sent along the way
};

// What a failed request leaves behind: the error, and enough context to report it.
struct http_failure {
  error_code error;  // errc::retries_exhausted, errc::http_status, errc::deadline_exceeded...
  unsigned last_status = 0;  // the last HTTP status seen, 0 when none arrived
  int attempts = 0;
  error_code last_error;  // the transport error of the last attempt, if any
  // Every attempt answered last_status: no transport error, no other status. A status that
  // changes from one attempt to the next (a chaos 502, then a 500) is the server's mood, not
  // its verdict on the request.
  bool same_status_throughout = false;
  std::string last_body;  // the start of the last answer's body, for the log and the task
  // A POST whose every attempt was answered in a way that proves it was not taken (it never
  // left, or 429, 502, 503, 504): the server has none of it.
  bool not_taken = false;

  std::string describe() const;  // one line for logs and task errors
};

// Lets `http_result::value()` throw (a std::runtime_error with describe()) when called on a
// failure; found by argument-dependent lookup. Check the result instead on expected paths.
[[noreturn]] void throw_exception_from_error(const http_failure& f,
                                             const boost::source_location& loc);

using http_result = boost::system::result<http_response, http_failure>;

// Lets the caller of a POST keep its own record of whether the request may have reached the
// server (the batch ledger's `posting` state, docs/architecture.md, "The ledger and its
// guarantees"). The client calls it between attempts, on the request's strand, and waits for it.
class post_guard {
 public:
  // What the caller's record says after an answer proved the request was not taken.
  enum class verdict {
    released,   // the record now says "not sent": resend() comes before the next attempt
    unchanged,  // the record could not be changed: carry on as without a guard
    stop,       // the request is no longer this caller's to send (another sender recorded or
                // took it over): post() fails with errc::cancelled, without another attempt
  };
  virtual ~post_guard() = default;
  // The last answer proves the request was not taken (it never left, or 429, 502, 503, 504) and
  // no earlier attempt may have been: called before the backoff, and before giving up.
  virtual net::awaitable<verdict> not_taken() = 0;
  // The request is about to be written again; `released` when not_taken() returned released
  // since the last attempt. An error stops the request: post() fails with it, without another
  // attempt.
  virtual net::awaitable<error_code> resend(bool released) = 0;
};

class http_client {
 public:
  // `origin` is "http://host:port" (a path, if any, is ignored). Throws std::invalid_argument
  // when it does not parse (a start-up error).
  http_client(net::any_io_executor ex, std::string_view origin, http_client_options opts = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // GET `target` (path and query). Retries per policy; hedged when enabled. A 2xx or a status
  // that is not retried is a response (check `status`); failures are errc::retries_exhausted
  // (every attempt failed) or errc::deadline_exceeded.
  net::awaitable<http_result> get(std::string target);

  // POST `body` (JSON) to `target`. Never hedged. Retried only when the answer shows it was not
  // taken: connect failures, a retryable status; a timeout or a reset after the request was
  // written is returned at once (errc::timeout / the transport error), since it may still land.
  // An attempt starts only with its whole post_timeout left before the request's deadline.
  // `guard`, when given, hears between attempts which ones proved the request was not taken.
  net::awaitable<http_result> post(std::string target, std::string body,
                                   post_guard* guard = nullptr);

  // POST `body` (JSON) to `target` as a read: a search that changes nothing on the server, so
  // retried like a GET (timeouts and resets too), though never hedged.
  net::awaitable<http_result> query(std::string target, std::string body);

  const http_client_metrics& metrics() const noexcept;
  const http_client_options& options() const noexcept;
  // "scheme://host:port": where the requests go, for error messages.
  std::string origin() const;

  // Closes idle connections; requests in flight finish on their own.
  void close_idle();

 private:
  struct impl;
  net::awaitable<http_result> serialized(net::awaitable<http_result> request) const;
  std::shared_ptr<impl> impl_;
};

}  // namespace etl
