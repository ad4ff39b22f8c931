// A blocking Redis client over one hiredis connection, for code that runs on a thread that may
// block (a blocking pool through `run_blocking`, or a thread of its own); never call it on an
// event loop thread.
//
// Answers come back as `redis_reply`, a small owned tree copied from hiredis's reply and freed
// at once. A connection that breaks (EOF, reset, timeout) is dropped; the next call reconnects,
// waiting out an exponential backoff first, so a dead Redis makes each call fail within
// max_backoff + connect_timeout + command_timeout instead of hanging or spinning.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/core/aliases.hpp"
#include "etl/queue/redis_error.hpp"

struct redisContext;

namespace etl {

// One RESP answer. An error answer ("-ERR ...") is a reply of kind `error`, not a failed call:
// the text is in `str`, and callers decide what it means (see `error_is`).
struct redis_reply {
  enum class kind { nil, status, error, integer, string, array };

  kind type = kind::nil;
  std::string str;                    // status, error and string answers
  long long integer = 0;              // integer answers
  std::vector<redis_reply> elements;  // array answers

  bool is_nil() const noexcept { return type == kind::nil; }
  bool is_error() const noexcept { return type == kind::error; }
  bool is_array() const noexcept { return type == kind::array; }
  // A string or a status answer: both carry text in `str`.
  bool is_text() const noexcept { return type == kind::string || type == kind::status; }
  // True for an error answer whose code (the first word) is `code`, e.g. "NOGROUP".
  bool error_is(std::string_view code) const noexcept;
};

// Parses exactly one complete RESP answer from `bytes` (what Redis writes on the wire). Fails
// with redis_errc::protocol_error for bytes that are not RESP, an incomplete answer, or bytes
// left over after the answer. For tests and tools: the connection parses through hiredis itself.
result<redis_reply> parse_resp(std::string_view bytes);

struct redis_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string user;      // Redis 6 ACL user; empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECTed on connect when not 0
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};
  // After a failed connect the next attempt waits min_backoff, doubling up to max_backoff; a
  // successful connect resets it.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{2'000};
};

// Parses "redis://[[user]:password@]host[:port][/db]" (ETL_REDIS_URL) into options with the
// default timeouts. Fails with errc::invalid_url for a URL etl::parse_url rejects, a scheme
// other than redis, a query, or a db that is not a number in [0, 1000000]; `why`, when given,
// receives a reason.
result<redis_options> parse_redis_url(std::string_view text, std::string* why = nullptr);

class redis_connection {
 public:
  // Does not connect: the first command does.
  explicit redis_connection(redis_options opts);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Sends one command (`args[0]` is its name; each argument is binary-safe) and waits for its
  // answer, at most `timeout` (default: command_timeout; a blocking command such as XREADGROUP
  // BLOCK needs its block time on top). Returns the answer, error answers included. Fails with
  // redis_errc::connect_failed / timeout when no connection could be made, connection_lost or
  // timeout when it broke during the command (the command may or may not have run), and
  // errc::invalid_argument for an empty `args`. Calls from several threads are serialized.
  result<redis_reply> command(const std::vector<std::string>& args,
                              std::optional<std::chrono::milliseconds> timeout = {});

  // Writes several commands at once and reads their answers in order (e.g. MULTI ... EXEC).
  // Fails like `command` when the connection cannot carry all of them; then none of the
  // answers is returned.
  result<std::vector<redis_reply>> pipeline(const std::vector<std::vector<std::string>>& commands);

  // True when a connection is open (it may still turn out broken at the next command).
  bool connected() const;
  // Closes the connection now; the next command reconnects without waiting for a backoff.
  void disconnect();

  const redis_options& options() const noexcept { return opts_; }

 private:
  struct context_deleter {
    void operator()(redisContext* c) const noexcept;
  };
  using context_ptr = std::unique_ptr<redisContext, context_deleter>;

  error_code ensure_connected();                          // with mutex_ held
  error_code fail(error_code ec, std::string_view what);  // drops the context; with mutex_ held

  redis_options opts_;
  mutable std::mutex mutex_;
  context_ptr ctx_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace etl
