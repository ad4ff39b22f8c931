#include "etl/http/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace etl {

std::string_view to_string(retry_reason r) noexcept {
  switch (r) {
    case retry_reason::connect:
      return "connect";
    case retry_reason::reset:
      return "reset";
    case retry_reason::timeout:
      return "timeout";
    case retry_reason::status_408:
      return "408";
    case retry_reason::status_429:
      return "429";
    case retry_reason::status_500:
      return "500";
    case retry_reason::status_502:
      return "502";
    case retry_reason::status_503:
      return "503";
    case retry_reason::status_504:
      return "504";
    case retry_reason::count_:
      break;
  }
  return "unknown";
}

std::optional<retry_reason> reason_for_status(unsigned status, const retry_options& opts) noexcept {
  switch (status) {
    case 408:
      return retry_reason::status_408;
    case 429:
      return retry_reason::status_429;
    case 500:
      if (opts.retry_status_500)
        return retry_reason::status_500;
      return std::nullopt;
    case 502:
      return retry_reason::status_502;
    case 503:
      return retry_reason::status_503;
    case 504:
      return retry_reason::status_504;
    default:
      return std::nullopt;
  }
}

milliseconds backoff_delay(const retry_options& opts, int next_attempt, std::mt19937_64& rng) {
  const int doublings = std::clamp(next_attempt - 2, 0, 30);
  const std::int64_t base = std::max<std::int64_t>(opts.base_delay.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(opts.max_delay.count(), 0);
  // base << doublings may overflow for large bases; compare before shifting.
  const std::int64_t ceiling = base > (cap >> doublings) ? cap : std::min(cap, base << doublings);
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling);
  return milliseconds{pick(rng)};
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::optional<int> month_index(std::string_view m) {
  static constexpr std::array<std::string_view, 12> names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (m == names[i])
      return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

// "HH:MM:SS" to seconds of the day.
std::optional<int> time_of_day(std::string_view t) {
  if (t.size() != 8 || t[2] != ':' || t[5] != ':')
    return std::nullopt;
  auto h = to_int(t.substr(0, 2)), m = to_int(t.substr(3, 2)), s = to_int(t.substr(6, 2));
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60)
    return std::nullopt;
  return *h * 3600 + *m * 60 + *s;
}

// The three date forms of RFC 9110 section 5.6.7, split into words on spaces, commas and the
// dashes of the RFC 850 form.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view v) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || v[i] == ' ' || v[i] == ',' || v[i] == '-') {
      if (i > start)
        words.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  std::optional<int> day, month, year, seconds;
  if (words.size() == 5 && month_index(words[1])) {  // asctime: Sun Nov  6 08:49:37 1994
    month = month_index(words[1]);
    day = to_int(words[2]);
    seconds = time_of_day(words[3]);
    year = to_int(words[4]);
  } else if (words.size() == 6 && words[5] == "GMT") {  // IMF-fixdate and RFC 850
    day = to_int(words[1]);
    month = month_index(words[2]);
    year = to_int(words[3]);
    seconds = time_of_day(words[4]);
    if (year && words[3].size() == 2)
      *year += *year < 70 ? 2000 : 1900;
  }
  if (!day || !month || !year || !seconds || *day < 1 || *day > 31)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*year},
                                        std::chrono::month{static_cast<unsigned>(*month)},
                                        std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok())
    return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::seconds{*seconds};
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty())
    return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Anything beyond a day is as good as a day: callers cap it far lower anyway.
    if (value.size() > 6)
      return milliseconds{86'400'000};
    return milliseconds{std::int64_t{*to_int(value)} * 1000};
  }
  auto when = parse_http_date(value);
  if (!when)
    return std::nullopt;
  if (*when <= now)
    return milliseconds{0};
  return std::chrono::duration_cast<milliseconds>(*when - now);
}

milliseconds next_delay(const retry_options& opts, int next_attempt,
                        std::optional<milliseconds> retry_after, std::mt19937_64& rng) {
  if (retry_after)
    return std::min(*retry_after, opts.retry_after_cap);
  return backoff_delay(opts, next_attempt, rng);
}

}  // namespace etl
