#include "etl/http/client.hpp"

#include <array>
#include <cmath>
#include <exception>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "connection_pool.hpp"
#include "etl/core/async_semaphore.hpp"
#include "etl/core/error.hpp"
#include "etl/core/text.hpp"
#include "etl/http/adaptive_limit.hpp"

namespace etl {
namespace {

using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using beast_request = http::request<http::string_body>;

constexpr auto nothrow_awaitable = net::as_tuple(net::use_awaitable);

// What one attempt on one connection came to.
struct attempt_outcome {
  error_code ec;           // a transport error or errc::timeout; empty when an answer arrived
  bool connected = false;  // a connection was in hand: a failure after this is not a connect error
  bool written = false;    // the whole request went out, so the server may act on it
  int copy = 0;            // which copy answered: 0 the first, 1.. the hedges
  int hedges_sent = 0;     // hedged copies that went out during this attempt
  http_response response;  // valid when !ec
  std::optional<milliseconds> retry_after;
};

// One copy of a hedged GET; the winner of the race closes the others through `abandon`.
struct copy_state {
  explicit copy_state(net::any_io_executor s) : strand(std::move(s)) {}
  net::any_io_executor strand;        // the copy's strand: the request's own for the first copy
  pooled_connection* conn = nullptr;  // touched on `strand` only
  bool abandoned = false;             // touched on `strand` only
  // Called once, on `strand`, when the request is first written whole.
  std::function<void()> on_written;
};

// The race of a hedged GET's copies. The first copy runs in the request's own coroutine; the
// hedge timer and the hedged copies report to it on the request's strand, so every member is
// touched there only. The first copy gets no strand, channel or coroutine of its own: those cost
// a sixth to a quarter of a GET's CPU, and most GETs are answered before a hedge is due.
struct hedge_race : std::enable_shared_from_this<hedge_race> {
  hedge_race(net::any_io_executor s, std::shared_ptr<const beast_request> r, steady::time_point d,
             std::size_t max)
      : strand(s), timer(s), req(std::move(r)), deadline(d), max_copies(max) {}
  net::any_io_executor strand;
  net::steady_timer timer;
  const std::shared_ptr<const beast_request> req;
  const steady::time_point deadline;  // the attempt's: every copy shares it
  const std::size_t max_copies;
  std::vector<std::shared_ptr<copy_state>> copies;  // [0] the first copy
  steady::time_point first_written;                 // the first copy's write: ticks come after
  std::optional<attempt_outcome> winner;            // a hedged copy's outcome, when one came first
  bool decided = false;                             // an outcome arrived: no more ticks or copies
};

// The latency of the last few thousand answers, for the automatic hedge delay. Two generations
// so that the estimate follows the recent past and forgets the distant one.
class recent_latency {
 public:
  void record(std::chrono::microseconds d) {
    std::size_t i = 0;
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0));
    while (i < latency_histogram::bounds_us.size() && us > latency_histogram::bounds_us[i])
      ++i;
    std::lock_guard lock(mu_);
    ++current_[i];
    if (++current_count_ == generation_size) {
      previous_ = current_;
      current_ = {};
      current_count_ = 0;
    }
  }

  // The upper bound of the bucket holding quantile q, or nothing before enough samples.
  std::optional<std::chrono::microseconds> quantile(double q) {
    std::array<std::uint64_t, buckets> sum{};
    std::uint64_t total = 0;
    {
      std::lock_guard lock(mu_);
      for (std::size_t i = 0; i < buckets; ++i) {
        sum[i] = current_[i] + previous_[i];
        total += sum[i];
      }
    }
    if (total < min_samples)
      return std::nullopt;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < latency_histogram::bounds_us.size(); ++i) {
      seen += sum[i];
      if (seen >= rank)
        return std::chrono::microseconds{latency_histogram::bounds_us[i]};
    }
    return std::chrono::microseconds{latency_histogram::bounds_us.back()};
  }

 private:
  static constexpr std::size_t buckets = latency_histogram::bounds_us.size() + 1;
  static constexpr std::uint64_t generation_size = 2'000;
  static constexpr std::uint64_t min_samples = 20;
  std::mutex mu_;
  std::array<std::uint64_t, buckets> current_{}, previous_{};
  std::uint64_t current_count_ = 0;
};

std::optional<retry_reason> transport_reason(const attempt_outcome& out, bool idempotent) {
  if (!out.connected)
    return retry_reason::connect;
  if (out.ec == errc::body_too_large)
    return std::nullopt;  // it will be as large next time
  // A request that went out whole may have been acted on: only idempotent ones go again.
  if (out.written && !idempotent)
    return std::nullopt;
  if (out.ec == beast::error::timeout || out.ec == errc::timeout)
    return retry_reason::timeout;
  return retry_reason::reset;
}

bool is_peer_close(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::connection_reset ||
         ec == net::error::eof || ec == net::error::broken_pipe;
}

}  // namespace

void throw_exception_from_error(const http_failure& f, const boost::source_location&) {
  throw std::runtime_error(f.describe());
}

std::string http_failure::describe() const {
  std::string s = error.message();
  s += " after " + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
  if (last_status != 0)
    s += ", last status " + std::to_string(last_status);
  if (last_error)
    s += ", last error: " + last_error.message();
  if (!last_body.empty())
    s += ", body: " + last_body;
  return s;
}

struct http_client::impl : std::enable_shared_from_this<impl> {
  impl(net::any_io_executor ex, url origin, http_client_options opts)
      : ex_(std::move(ex)),
        origin_(std::move(origin)),
        host_header_(origin_.host + ":" + std::to_string(origin_.port)),
        opts_(std::move(opts)),
        pool_(opts_.max_connections, opts_.idle_timeout),
        rng_(std::random_device{}()) {
    if (opts_.max_in_flight > 0 && opts_.adaptive_in_flight) {
      adaptive_limit_options a;
      a.floor = std::min(opts_.adaptive_floor, opts_.max_in_flight);
      a.ceiling = opts_.max_in_flight;
      // Four times the floor: against an upstream 100 ms away each doubling costs an RTT at a
      // fraction of the ceiling, and 16 per process is still near the knee of a small one.
      a.initial = std::min(4 * a.floor, a.ceiling);
      adaptive_.emplace(a, steady::now());
      in_flight_ = std::make_unique<async_semaphore>(adaptive_->limit());
    } else if (opts_.max_in_flight > 0) {
      in_flight_ = std::make_unique<async_semaphore>(opts_.max_in_flight);
    }
    if (in_flight_)
      metrics_.in_flight_limit = in_flight_->count();
  }

  net::any_io_executor ex_;
  const url origin_;
  const std::string host_header_;
  const http_client_options opts_;
  http_client_metrics metrics_;
  connection_pool pool_;
  std::unique_ptr<async_semaphore> in_flight_;  // opts_.max_in_flight, when set
  std::mutex adaptive_mu_;
  std::optional<adaptive_limit> adaptive_;  // moves in_flight_'s count, when asked for
  recent_latency recent_;
  // Hedge budget in thousandths of a hedge: each request earns opts_.hedge_budget of one.
  std::atomic<std::int64_t> hedge_tokens_{burst_tokens};
  // A burst of 100: pauses cluster (every copy in flight at once), and a budget that runs dry
  // leaves a paused request to its full timeout.
  static constexpr std::int64_t burst_tokens = 100'000;
  std::mutex endpoints_mu_;
  std::optional<tcp::resolver::results_type> endpoints_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;

  milliseconds backoff(int next_attempt, std::optional<milliseconds> retry_after) {
    std::lock_guard lock(rng_mu_);
    return next_delay(opts_.retry, next_attempt, retry_after, rng_);
  }

  milliseconds hedge_delay() {
    if (opts_.hedge_delay)
      return *opts_.hedge_delay;
    auto p95 = recent_.quantile(0.95);
    if (!p95)
      return opts_.hedge_min_delay;
    return std::clamp(std::chrono::duration_cast<milliseconds>(*p95), opts_.hedge_min_delay,
                      opts_.hedge_max_delay);
  }

  // Feeds an answered attempt's round trip to the adaptive limit, if any, and applies its verdict.
  void adapt(std::chrono::microseconds rtt) {
    if (!adaptive_)
      return;
    std::lock_guard lock(adaptive_mu_);
    const auto before = adaptive_->limit();
    const auto after = adaptive_->on_sample(rtt, steady::now());
    if (after != before) {
      in_flight_->set_count(after);
      metrics_.in_flight_limit.store(after, std::memory_order_relaxed);
    }
  }

  void earn_hedge_tokens() {
    const auto earned = static_cast<std::int64_t>(opts_.hedge_budget * 1000.0);
    auto cur = hedge_tokens_.load(std::memory_order_relaxed);
    while (cur < burst_tokens &&
           !hedge_tokens_.compare_exchange_weak(cur, std::min(burst_tokens, cur + earned))) {
    }
  }

  bool take_hedge_token() {
    auto cur = hedge_tokens_.load(std::memory_order_relaxed);
    while (cur >= 1000) {
      if (hedge_tokens_.compare_exchange_weak(cur, cur - 1000))
        return true;
    }
    return false;
  }

  std::shared_ptr<const beast_request> make_request(http::verb verb, std::string target,
                                                    std::string body) const {
    auto req = std::make_shared<beast_request>(verb, target, 11);
    req->set(http::field::host, host_header_);
    req->set(http::field::user_agent, opts_.user_agent);
    req->set(http::field::accept, "application/json");
    for (const auto& [name, value] : opts_.headers)
      req->set(name, value);
    if (verb == http::verb::post) {
      req->set(http::field::content_type, "application/json");
      req->body() = std::move(body);
    }
    req->keep_alive(true);
    req->prepare_payload();
    return req;
  }

  net::awaitable<error_code> connect(pooled_connection& c, steady::time_point deadline) {
    c.stream.expires_at(std::min(deadline, steady::now() + opts_.connect_timeout));
    std::optional<tcp::resolver::results_type> endpoints;
    {
      std::lock_guard lock(endpoints_mu_);
      endpoints = endpoints_;
    }
    if (!endpoints) {
      tcp::resolver resolver(c.stream.get_executor());
      auto [ec, found] = co_await resolver.async_resolve(origin_.host, std::to_string(origin_.port),
                                                         nothrow_awaitable);
      if (ec)
        co_return ec;
      std::lock_guard lock(endpoints_mu_);
      endpoints_ = found;
      endpoints = found;
    }
    auto [ec, ep] = co_await c.stream.async_connect(*endpoints, nothrow_awaitable);
    if (ec) {
      // The name may point elsewhere now (a restarted container, a failover): resolve it again
      // for the next connection instead of dialling the old addresses for ever.
      std::lock_guard lock(endpoints_mu_);
      if (endpoints_ && *endpoints_ == *endpoints)
        endpoints_.reset();
      co_return ec;
    }
    c.stream.socket().set_option(tcp::no_delay(true), ec);
    co_return error_code{};
  }

  // One exchange on one connection, from the pool or new. A reused connection that the peer
  // closed before reading the request is replaced by a fresh one, once.
  static net::awaitable<attempt_outcome> attempt(std::shared_ptr<impl> self,
                                                 std::shared_ptr<const beast_request> req,
                                                 steady::time_point deadline,
                                                 std::shared_ptr<copy_state> copy) {
    attempt_outcome out;
    auto& pool = self->pool_;
    auto got = co_await pool.acquire(deadline);
    if (!got) {
      out.ec = got.error();
      co_return out;
    }
    connection_ptr c = std::move(*got);
    if (copy && copy->abandoned) {
      c ? pool.release(std::move(c)) : pool.discard(nullptr);
      out.ec = errc::cancelled;
      co_return out;
    }
    const bool idempotent = req->method() == http::verb::get;
    const auto timeout = idempotent ? self->opts_.get_timeout : self->opts_.post_timeout;
    bool reused = c != nullptr;
    for (bool retried_stale = false;; retried_stale = true) {
      if (!c) {
        c = std::make_unique<pooled_connection>(co_await net::this_coro::executor);
        if (copy)
          copy->conn = c.get();
        if (auto ec = co_await self->connect(*c, deadline)) {
          if (copy)
            copy->conn = nullptr;
          pool.discard(std::move(c));
          out.ec = ec;
          co_return out;
        }
        self->metrics_.connections_opened.fetch_add(1, std::memory_order_relaxed);
      } else {
        if (copy)
          copy->conn = c.get();
        self->metrics_.connections_reused.fetch_add(1, std::memory_order_relaxed);
      }
      out.connected = true;
      self->metrics_.attempts.fetch_add(1, std::memory_order_relaxed);
      const auto started = steady::now();
      c->stream.expires_at(std::min(deadline, started + timeout));

      auto [write_ec, written_bytes] =
          co_await http::async_write(c->stream, *req, nothrow_awaitable);
      error_code ec = write_ec;
      http::response_parser<http::string_body> parser;
      if (!ec) {
        out.written = true;
        if (copy && copy->on_written)
          std::exchange(copy->on_written, nullptr)();
        parser.body_limit(self->opts_.max_body_bytes);
        auto [read_ec, read_bytes] =
            co_await http::async_read(c->stream, c->buffer, parser, nothrow_awaitable);
        ec = read_ec;
      }
      const bool abandoned = copy && copy->abandoned;
      if (copy)
        copy->conn = nullptr;
      if (ec) {
        // The peer may have closed the idle connection as we took it: nothing was read on its
        // side. A failed write proves it; an immediate close proves it for a GET.
        const bool stale = reused && !retried_stale && !abandoned && is_peer_close(ec) &&
                           (!out.written || idempotent);
        c.reset();
        if (stale) {
          self->metrics_.stale_retries.fetch_add(1, std::memory_order_relaxed);
          out.written = false;
          reused = false;
          continue;  // keeps the slot: the fresh connection takes its place
        }
        pool.discard(nullptr);
        out.ec = abandoned                       ? make_error_code(errc::cancelled)
                 : ec == http::error::body_limit ? make_error_code(errc::body_too_large)
                                                 : ec;
        co_return out;
      }

      auto& res = parser.get();
      out.response.status = res.result_int();
      out.response.content_type = std::string(res[http::field::content_type]);
      out.response.location = std::string(res[http::field::location]);
      if (auto ra = res.find(http::field::retry_after); ra != res.end()) {
        out.retry_after = parse_retry_after(ra->value(), std::chrono::system_clock::now());
      }
      const bool keep = res.keep_alive() && !abandoned;
      out.response.body = std::move(res.body());
      if (out.response.status < 500) {
        const auto took =
            std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
        self->metrics_.latency.record(took);
        self->recent_.record(took);
        self->adapt(took);
      }
      keep ? pool.release(std::move(c)) : pool.discard(std::move(c));
      co_return out;
    }
  }

  // attempt(), holding `place` (a hedged copy's place in the in-flight budget) until it ends;
  // with `queue_for_place`, first waits for one in the budget's queue like any request.
  static net::awaitable<attempt_outcome> attempt_holding(std::shared_ptr<impl> self,
                                                         std::shared_ptr<const beast_request> req,
                                                         steady::time_point deadline,
                                                         std::shared_ptr<copy_state> copy,
                                                         async_semaphore::permit place,
                                                         bool queue_for_place) {
    // Given back here, while `self` keeps the semaphore alive, not whenever the frame goes.
    try {
      if (queue_for_place && !place) {
        place = co_await self->in_flight_->acquire();
        if (copy->abandoned) {  // answered while this copy queued: not sent at all
          place.reset();
          attempt_outcome out;
          out.ec = errc::cancelled;
          co_return out;
        }
      }
      auto out = co_await attempt(self, std::move(req), deadline, std::move(copy));
      place.reset();
      co_return out;
    } catch (...) {
      place.reset();
      throw;
    }
  }

  // Starts hedged copy `copy_no` of `req` on a strand of its own; it reports to `race` on the
  // request's strand: its write may start the next hedge's clock, its outcome decides the race if
  // none has yet. `place`: the copy's place in the in-flight budget, if it needs one; with
  // `queue_for_place` the copy waits for one first.
  void start_hedge(const std::shared_ptr<hedge_race>& race, async_semaphore::permit place,
                   bool queue_for_place) {
    const auto copy_no = race->copies.size();
    auto copy = std::make_shared<copy_state>(net::make_strand(ex_));
    // race->copies holds `copy` and this holds `race`: the cycle ends when on_written is called
    // or when the race ends and clears its copies.
    copy->on_written = [self = shared_from_this(), race, copy_no] {
      net::post(race->strand, [self, race, copy_no] {
        // Only the newest copy's write starts the clock of the next hedge.
        if (!race->decided && copy_no + 1 == race->copies.size())
          self->arm_hedge_timer(race);
      });
    };
    race->copies.push_back(copy);
    net::co_spawn(copy->strand,
                  attempt_holding(shared_from_this(), race->req, race->deadline, copy,
                                  std::move(place), queue_for_place),
                  [race, copy_no](std::exception_ptr e, attempt_outcome out) {
                    if (e) {
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& ex) {
                        spdlog::error("http client: a request copy threw: {}", ex.what());
                      }
                      out = attempt_outcome{};
                      out.ec = make_error_code(boost::system::errc::state_not_recoverable);
                    }
                    out.copy = static_cast<int>(copy_no);
                    net::post(race->strand, [race, out = std::move(out)]() mutable {
                      if (race->decided)
                        return;  // another copy answered first
                      race->decided = true;
                      race->timer.cancel();
                      // The first copy is still in its attempt: closing its connection ends it.
                      abandon(race->copies.front());
                      race->winner = std::move(out);
                    });
                  });
  }

  static void abandon(const std::shared_ptr<copy_state>& copy) {
    net::post(copy->strand, [copy] {
      copy->abandoned = true;
      if (copy->conn) {
        error_code ignored;
        copy->conn->stream.socket().close(ignored);
      }
    });
  }

  // Arms the hedge clock of `race`; on the request's strand, like its expiry.
  void arm_hedge_timer(const std::shared_ptr<hedge_race>& race) {
    if (race->copies.size() >= race->max_copies)
      return;
    race->timer.expires_after(hedge_delay());
    race->timer.async_wait([self = shared_from_this(), race](error_code ec) {
      if (!ec && !race->decided)
        self->hedge_due(race);
    });
  }

  // No answer within the hedge delay of the newest copy's write: send another copy, if the
  // budget allows one.
  void hedge_due(const std::shared_ptr<hedge_race>& race) {
    spdlog::debug("http client: {} no answer after the hedge delay ({} copies out)",
                  redact_query(race->req->target(), opts_.redact_query), race->copies.size());
    // A copy is a request in flight like any other: it needs a place of the budget. None free
    // (every place taken, others perhaps queueing for one) means the upstream is saturated:
    // the slow answer is its queue, not an outlier, and a copy would only lengthen that queue.
    // Try again after another delay. Past hedge_max_delay no queue explains the wait (a paused
    // request): the copy queues for a place like any request and goes when it gets one.
    async_semaphore::permit place;
    bool queue_for_place = false;
    if (in_flight_) {
      place = in_flight_->try_acquire();
      if (!place && steady::now() - race->first_written < opts_.hedge_max_delay) {
        metrics_.hedges_skipped.fetch_add(1, std::memory_order_relaxed);
        arm_hedge_timer(race);
        return;
      }
      queue_for_place = !place;
    }
    if (take_hedge_token()) {
      metrics_.hedges_sent.fetch_add(1, std::memory_order_relaxed);
      start_hedge(race, std::move(place), queue_for_place);
    }
  }

  // A GET that is sent again on another connection when no answer came within the hedge
  // delay, and once more if that copy is slow too (a paused source pauses a copy at random, so
  // two in a row happen); the first outcome wins and the other copies' connections are closed.
  //
  // The hedge delay runs from when the newest copy was written: time spent waiting for a pooled
  // connection is local queueing, not a slow source, and hedging it only adds to the queue.
  //
  // The first copy is this coroutine's own attempt: no strand, channel or spawn of its own. The
  // timer's expiry and the hedged copies' reports run on the request's strand, as this coroutine
  // does, so they see the race in a consistent state: an outcome a hedge reports is kept in
  // `race->winner` whether or not the timer fired in the same instant.
  net::awaitable<attempt_outcome> hedged_attempt(std::shared_ptr<const beast_request> req,
                                                 steady::time_point deadline) {
    const auto max_copies = static_cast<std::size_t>(1 + std::max(opts_.max_hedges, 0));
    auto race =
        std::make_shared<hedge_race>(co_await net::this_coro::executor, req, deadline, max_copies);
    auto first = std::make_shared<copy_state>(race->strand);
    // Raw pointers, small enough for std::function to keep without allocating: the first copy's
    // attempt ends before this frame, which holds `race`, and the request holds the client.
    first->on_written = [self = this, r = race.get()] {
      r->first_written = steady::now();
      self->arm_hedge_timer(r->shared_from_this());
    };
    race->copies.push_back(first);

    auto out = co_await attempt(shared_from_this(), req, deadline, first);
    if (race->winner) {
      out = std::move(*race->winner);
    } else {
      race->decided = true;
      race->timer.cancel();
      out.copy = 0;
    }
    for (std::size_t i = 1; i < race->copies.size(); ++i) {
      if (static_cast<int>(i) != out.copy)
        abandon(race->copies[i]);
    }
    out.hedges_sent = static_cast<int>(race->copies.size()) - 1;
    race->copies.clear();
    if (out.copy > 0 && !out.ec)
      metrics_.hedges_won.fetch_add(1, std::memory_order_relaxed);
    co_return out;
  }

  // The answer (or its absence) proves a POST attempt was not taken: it never left, or the
  // server turned it away before handling. A 500 proves nothing: in verify mode home answers it
  // after taking part of the array.
  static bool proves_not_taken(const attempt_outcome& out, const std::optional<retry_reason>& why) {
    if (!why)
      return false;
    if (out.ec)
      return *why == retry_reason::connect;
    const auto s = out.response.status;
    return s == 429 || s == 502 || s == 503 || s == 504;
  }

  static net::awaitable<http_result> request(std::shared_ptr<impl> self, http::verb verb,
                                             std::string target, std::string body,
                                             post_guard* guard = nullptr, bool read_only = false) {
    auto& m = self->metrics_;
    // Waiting for a place comes before the deadline starts: the queue is ours, not the origin's.
    async_semaphore::permit place;
    if (self->in_flight_)
      place = co_await self->in_flight_->acquire();
    m.requests.fetch_add(1, std::memory_order_relaxed);
    self->earn_hedge_tokens();
    // A read-only POST (a search) may be sent again like a GET; only GETs are hedged, and not by
    // a rate-limited client: a hedged copy would be one more request the upstream counts.
    const bool idempotent = verb == http::verb::get || read_only;
    const bool hedged = verb == http::verb::get && self->opts_.hedge && !self->opts_.admit;
    auto deadline = steady::now() + self->opts_.request_deadline;
    auto req = self->make_request(verb, std::move(target), std::move(body));

    http_failure failure;
    bool maybe_taken = false;  // a POST attempt may have reached the server
    bool released = false;     // the guard's record says "not sent": resend() first
    int hedges = 0;
    for (int attempt_no = 1;; ++attempt_no) {
      if (guard && attempt_no > 1) {
        if (auto ec = co_await guard->resend(released)) {
          failure.error = ec;
          m.failures.fetch_add(1, std::memory_order_relaxed);
          co_return failure;
        }
        released = false;
      }
      if (self->opts_.admit) {
        // Every attempt is admitted, retries included: the upstream counts each one. (A stale
        // pooled connection's resend inside attempt() is not: the peer closed it without
        // reading the request.) The wait for admission is our queue, not the origin's: the
        // deadline moves by it.
        const auto asked = steady::now();
        if (auto ec = co_await self->opts_.admit()) {
          failure.error = ec;
          failure.attempts = attempt_no - 1;
          m.failures.fetch_add(1, std::memory_order_relaxed);
          co_return failure;
        }
        deadline += steady::now() - asked;
      }
      // Not a conditional expression: GCC 12 destroys the result of a co_await inside one twice.
      attempt_outcome out;
      if (hedged) {
        out = co_await self->hedged_attempt(req, deadline);
      } else {
        out = co_await attempt(self, req, deadline, nullptr);
      }
      failure.attempts = attempt_no;
      hedges += out.hedges_sent;
      std::optional<retry_reason> reason;
      if (!out.ec) {
        reason = reason_for_status(out.response.status, self->opts_.retry);
        if (!reason) {
          out.response.attempts = attempt_no;
          out.response.hedges = hedges;
          m.answered.fetch_add(1, std::memory_order_relaxed);
          co_return std::move(out.response);
        }
        failure.same_status_throughout =
            attempt_no == 1 ||
            (failure.same_status_throughout && failure.last_status == out.response.status);
        failure.last_status = out.response.status;
        failure.last_body = storable_text(out.response.body, 200);
        failure.last_error = {};
      } else {
        failure.same_status_throughout = false;
        failure.last_error = out.ec;
        reason = transport_reason(out, idempotent);
        if (!reason) {
          failure.error = out.ec == beast::error::timeout ? make_error_code(errc::timeout) : out.ec;
          failure.not_taken = false;  // it went out whole: it may land
          m.failures.fetch_add(1, std::memory_order_relaxed);
          co_return failure;
        }
      }
      if (!idempotent) {
        // Once an attempt may have been taken, no later answer can prove the request was not.
        maybe_taken = maybe_taken || !proves_not_taken(out, reason);
        failure.not_taken = !maybe_taken;
        if (!maybe_taken && guard) {
          const auto answer = co_await guard->not_taken();
          if (answer == post_guard::verdict::stop) {
            failure.error = errc::cancelled;
            m.failures.fetch_add(1, std::memory_order_relaxed);
            co_return failure;
          }
          released = answer == post_guard::verdict::released;
        }
      }
      if (attempt_no >= self->opts_.retry.max_attempts) {
        failure.error = errc::retries_exhausted;
        m.failures.fetch_add(1, std::memory_order_relaxed);
        co_return failure;
      }
      const auto delay = self->backoff(attempt_no + 1, out.retry_after);
      // A POST attempt gets its whole timeout or does not start: one cut short by the request's
      // deadline would end in a timeout after the body went out, a needless "may have landed".
      const auto needed = idempotent ? milliseconds{0} : self->opts_.post_timeout;
      if (steady::now() + delay + needed >= deadline) {
        failure.error = errc::deadline_exceeded;
        m.failures.fetch_add(1, std::memory_order_relaxed);
        co_return failure;
      }
      m.retries[static_cast<std::size_t>(*reason)].fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("http client: {} {} retry {} in {} ms ({})", std::string(to_string(verb)),
                    redact_query(req->target(), self->opts_.redact_query), attempt_no,
                    delay.count(), to_string(*reason));
      net::steady_timer wait(co_await net::this_coro::executor, delay);
      co_await wait.async_wait(nothrow_awaitable);
    }
  }
};

std::string http_client::origin() const {
  return impl_->origin_.origin();
}

http_client::http_client(net::any_io_executor ex, std::string_view origin,
                         http_client_options opts) {
  auto parsed = parse_url(origin);
  if (!parsed || parsed->scheme != "http") {
    throw std::invalid_argument("http_client: not an http:// URL: " + std::string(origin));
  }
  impl_ = std::make_shared<impl>(std::move(ex), std::move(*parsed), std::move(opts));
}

http_client::~http_client() {
  if (impl_)
    impl_->pool_.close_idle();
}

// A request's handlers (the connection pool's wake-ups, its timers, a hedge race's reports) run
// on its coroutine's executor and must not run beside the coroutine: it gets a strand of its
// own, unless the client's executor is single-threaded and the caller's coroutine will do.
net::awaitable<http_result> http_client::serialized(net::awaitable<http_result> request) const {
  if (impl_->opts_.single_threaded)
    return request;
  return net::co_spawn(net::make_strand(impl_->ex_), std::move(request), net::use_awaitable);
}

net::awaitable<http_result> http_client::get(std::string target) {
  return serialized(impl::request(impl_, http::verb::get, std::move(target), {}));
}

net::awaitable<http_result> http_client::post(std::string target, std::string body,
                                              post_guard* guard) {
  return serialized(
      impl::request(impl_, http::verb::post, std::move(target), std::move(body), guard));
}

net::awaitable<http_result> http_client::query(std::string target, std::string body) {
  return serialized(
      impl::request(impl_, http::verb::post, std::move(target), std::move(body), nullptr, true));
}

const http_client_metrics& http_client::metrics() const noexcept {
  return impl_->metrics_;
}

const http_client_options& http_client::options() const noexcept {
  return impl_->opts_;
}

void http_client::close_idle() {
  impl_->pool_.close_idle();
}

}  // namespace etl
