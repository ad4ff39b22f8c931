#include "etl/queue/rate_limiter.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etl/core/blocking.hpp"
#include "etl/core/error.hpp"

namespace etl {
namespace {

// KEYS[1]: the bucket (a hash: `level` in millionths of a token, `at` in microseconds of Redis's
// clock). ARGV[1]: the capacity in tokens; ARGV[2]: tokens per second, which is also millionths
// of a token per microsecond. Answers 0 when it took a token, else the microseconds until one
// is due. Integers in doubles stay exact far beyond these magnitudes (2^53).
constexpr const char* bucket_script = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local capacity = tonumber(ARGV[1]) * 1000000
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(b[1])
local at = tonumber(b[2])
if level == nil or at == nil then
  level = capacity
  at = now
elseif now > at then
  level = math.min(capacity, level + math.floor((now - at) * rate))
  at = now
end
local wait = 0
if level >= 1000000 then
  level = level - 1000000
else
  wait = math.ceil((1000000 - level) / rate)
end
redis.call('HSET', KEYS[1], 'level', level, 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate / 1000) + 1000)
return wait
)lua";

constexpr auto nothrow_awaitable = net::as_tuple(net::use_awaitable);

}  // namespace

redis_rate_limiter::redis_rate_limiter(redis_options redis, rate_limiter_options opts)
    : opts_(std::move(opts)), conn_(std::move(redis)) {
  if (opts_.key.empty())
    throw std::invalid_argument("redis_rate_limiter: empty key");
  if (!(opts_.capacity >= 1))
    throw std::invalid_argument("redis_rate_limiter: capacity below 1");
  if (!(opts_.tokens_per_second > 0) || !std::isfinite(opts_.tokens_per_second))
    throw std::invalid_argument("redis_rate_limiter: the rate must be positive");
  capacity_arg_ = fmt::format("{}", opts_.capacity);
  rate_arg_ = fmt::format("{}", opts_.tokens_per_second);
}

redis_rate_limiter::~redis_rate_limiter() {
  pool_.join();
}

result<std::chrono::microseconds> redis_rate_limiter::try_acquire_blocking() {
  std::lock_guard lock(sha_mutex_);
  // EVALSHA of the loaded script; a Redis that restarted (or whose scripts were flushed) answers
  // NOSCRIPT, and the script is loaded again, once per call.
  for (int round = 0; round < 2; ++round) {
    if (sha_.empty()) {
      auto loaded = conn_.command({"SCRIPT", "LOAD", bucket_script});
      if (!loaded)
        return loaded.error();
      if (!loaded->is_text()) {
        spdlog::warn("rate limit {}: SCRIPT LOAD answered {}", opts_.key, loaded->str);
        return make_error_code(loaded->is_error() ? redis_errc::server_error
                                                  : redis_errc::unexpected_reply);
      }
      sha_ = loaded->str;
    }
    auto r = conn_.command({"EVALSHA", sha_, "1", opts_.key, capacity_arg_, rate_arg_});
    if (!r)
      return r.error();
    if (r->error_is("NOSCRIPT")) {
      sha_.clear();
      continue;
    }
    if (r->is_error()) {
      spdlog::warn("rate limit {}: the bucket script failed: {}", opts_.key, r->str);
      return make_error_code(redis_errc::server_error);
    }
    if (r->type != redis_reply::kind::integer || r->integer < 0)
      return make_error_code(redis_errc::unexpected_reply);
    return std::chrono::microseconds{r->integer};
  }
  return make_error_code(redis_errc::server_error);
}

net::awaitable<error_code> redis_rate_limiter::acquire() {
  auto turn = co_await turn_.acquire();
  for (;;) {
    auto got =
        co_await run_blocking(pool_.get_executor(), [this] { return try_acquire_blocking(); });
    if (!got)
      co_return got.error();
    if (got->count() == 0)
      co_return error_code{};
    net::steady_timer wait(co_await net::this_coro::executor, *got);
    co_await wait.async_wait(nothrow_awaitable);
  }
}

}  // namespace etl
