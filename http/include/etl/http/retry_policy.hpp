// Retry policy of the HTTP client: which outcomes are retried, how long to wait between
// attempts (exponential backoff with full jitter, capped), and how `Retry-After` is honoured.
//
// Pure functions and plain data, so they are unit-tested without a network.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace etl {

using std::chrono::milliseconds;

struct retry_options {
  int max_attempts = 6;                  // attempts in all, the first included (>= 1)
  milliseconds base_delay{50};           // backoff before the 2nd attempt is drawn from [0, base]
  milliseconds max_delay{2'000};         // cap of the exponential part
  milliseconds retry_after_cap{10'000};  // longest Retry-After we honour
  bool retry_status_500 = true;          // 500 is retried (chaos answers it before handling)
};

// Why an attempt failed in a way that may be retried; also the label of the retry counters.
enum class retry_reason : std::uint8_t {
  connect,  // could not connect: the request never left
  reset,    // the connection broke (reset, EOF before a full answer)
  timeout,  // a step timed out
  status_408,
  status_429,
  status_500,
  status_502,
  status_503,
  status_504,
  count_  // number of reasons, not a reason
};

std::string_view to_string(retry_reason r) noexcept;

// The retry reason for an HTTP status, or nothing when the status is not retried.
std::optional<retry_reason> reason_for_status(unsigned status, const retry_options& opts) noexcept;

// The full-jitter backoff before attempt number `next_attempt` (2 for the first retry):
// uniform in [0, min(max_delay, base_delay * 2^(next_attempt-2))].
milliseconds backoff_delay(const retry_options& opts, int next_attempt, std::mt19937_64& rng);

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the RFC 850 and asctime forms), relative to `now`.
// Returns nothing for a value that does not parse; a date in the past gives zero.
std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now);

// The wait before the next attempt: the server's Retry-After (capped) when it gave one,
// otherwise the jittered backoff.
milliseconds next_delay(const retry_options& opts, int next_attempt,
                        std::optional<milliseconds> retry_after, std::mt19937_64& rng);

}  // namespace etl
