// A rate limit shared by every process of the worker pool: one token bucket in Redis per
// upstream, so that the pool as a whole stays under a quota such as Crunchbase's 200 calls a
// minute, however many worker processes and hosts it has.
//
// Contract: each `acquire` that succeeds took one token of the bucket at `key`. The bucket holds
// at most `capacity` tokens (the burst) and refills continuously at `tokens_per_second`, so the
// tokens granted in any interval of t seconds number at most capacity + tokens_per_second * t,
// across every limiter of every process that names the same key. One Lua script does the
// refill and the take atomically, timed by Redis's own clock (TIME), so the clocks of the
// worker hosts do not matter. When the bucket is empty the script answers how long until a
// token is due; `acquire` waits that long on an Asio timer and asks again: no busy loop, no
// polling beyond the wait Redis gave. Within a process one waiter at a time asks Redis (the
// others queue behind it, first come first served), so a crowd of waiting requests costs one
// script call per refill, not one each.
//
// When Redis cannot be asked, `acquire` fails: a caller never goes ahead unlimited.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "etl/core/aliases.hpp"
#include "etl/core/async_semaphore.hpp"
#include "etl/queue/redis_connection.hpp"

namespace etl {

struct rate_limiter_options {
  std::string key;                 // the bucket's Redis key, e.g. "etl:ratelimit:<origin>"
  double capacity = 1;             // tokens the bucket holds at most: the burst (>= 1)
  double tokens_per_second = 1.0;  // the refill rate (> 0)
};

class redis_rate_limiter {
 public:
  // Does not connect: the first call does. Throws std::invalid_argument (a start-up error) for
  // an empty key, a capacity below 1 or a rate that is not positive.
  redis_rate_limiter(redis_options redis, rate_limiter_options opts);
  // Waits for a script call in progress (at most the Redis command timeout).
  ~redis_rate_limiter();
  redis_rate_limiter(const redis_rate_limiter&) = delete;
  redis_rate_limiter& operator=(const redis_rate_limiter&) = delete;

  // Takes one token, waiting until the bucket has one. Fails with a redis_errc when Redis
  // cannot be asked (unreachable, timed out, an error answer): no token was taken, and the
  // caller must not send the request it was for.
  net::awaitable<error_code> acquire();

  // One try, blocking the calling thread (for the limiter's own pool, tests and tools): zero when
  // a token was taken, else the wait until one is due. Fails like `acquire`.
  result<std::chrono::microseconds> try_acquire_blocking();

  const rate_limiter_options& options() const noexcept { return opts_; }

 private:
  rate_limiter_options opts_;
  std::string capacity_arg_, rate_arg_;  // the script's arguments, formatted once
  redis_connection conn_;
  std::mutex sha_mutex_;
  std::string sha_;           // of the loaded script; empty until SCRIPT LOAD answered
  async_semaphore turn_{1};   // one waiter of this process asks Redis at a time
  net::thread_pool pool_{1};  // hiredis blocks: its calls run here
};

}  // namespace etl
