#include "etl/server/task_list_query.hpp"

#include "etl/pipelines/names.hpp"

#include <charconv>
#include <cstdint>

namespace etl {
namespace {

constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(base64url_alphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0)
    out.push_back(base64url_alphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

// Unpadded base64url only; nullopt for any other character or a length no encoder produces.
std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const auto v = base64url_alphabet.find(c);
    if (v == std::string_view::npos)
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// Whether a list takes ?pipeline= (the task list does, a task's rejected records do not).
template <class Params>
constexpr bool filters_by_pipeline = requires(Params p) {
  p.pipeline;
};

// limit and cursor (and a pipeline, where the list takes one) from a query string; `decode`
// turns the cursor's text into Params::after.
template <class Params, class Decode>
std::variant<Params, server_reply> read_page_params(std::string_view q, Decode decode) {
  Params p;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty())
      continue;
    const auto eq = pair.find('=');
    const auto name = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (name == "limit") {
      int n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || n < 1 ||
          n > max_task_list_limit) {
        return json_error(400, "invalid_parameter",
                          "limit must be an integer from 1 to " +
                              std::to_string(max_task_list_limit) + ", got '" + std::string(value) +
                              "'");
      }
      p.limit = n;
    } else if (name == "cursor") {
      auto after = decode(value);
      if (!after) {
        return json_error(400, "invalid_cursor",
                          "cursor must be a next_cursor value from an earlier page, unchanged");
      }
      p.after = std::move(*after);
    } else if (filters_by_pipeline<Params> && name == "pipeline") {
      if (!is_pipeline_name(value)) {
        return json_error(400, "invalid_parameter",
                          "pipeline must be a pipeline's name ([a-z][a-z0-9-]*, at most 63 "
                          "bytes), got '" +
                              std::string(value) + "'");
      }
      if constexpr (filters_by_pipeline<Params>)
        p.pipeline = std::string(value);
    } else {
      return json_error(
          400, "unknown_parameter",
          "unknown query parameter '" + std::string(name) +
              (filters_by_pipeline<Params> ? "'; the known ones are limit, cursor, pipeline"
                                           : "'; the known ones are limit, cursor"));
    }
  }
  return p;
}

}  // namespace

std::variant<task_list_params, server_reply> read_task_list_params(std::string_view q) {
  return read_page_params<task_list_params>(q, decode_task_cursor);
}

std::variant<rejected_list_params, server_reply> read_rejected_list_params(std::string_view q) {
  return read_page_params<rejected_list_params>(q, decode_rejected_cursor);
}

std::string encode_rejected_cursor(std::int64_t row) {
  return base64url_encode("r:" + std::to_string(row));
}

std::optional<std::int64_t> decode_rejected_cursor(std::string_view text) {
  const auto plain = base64url_decode(text);
  if (!plain || !plain->starts_with("r:"))
    return std::nullopt;
  const std::string_view digits = std::string_view(*plain).substr(2);
  std::int64_t row = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), row);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || row < 1)
    return std::nullopt;
  return row;
}

std::string encode_task_cursor(const task_cursor& c) {
  return base64url_encode(std::to_string(c.created_at.time_since_epoch().count()) + ":" + c.id);
}

std::optional<task_cursor> decode_task_cursor(std::string_view text) {
  const auto plain = base64url_decode(text);
  if (!plain)
    return std::nullopt;
  const std::string_view s = *plain;
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  std::int64_t micros = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + colon, micros);
  if (ec != std::errc{} || end != s.data() + colon || micros < 0)
    return std::nullopt;
  const auto id = s.substr(colon + 1);
  if (!is_uuid(id))
    return std::nullopt;
  return task_cursor{db_time(std::chrono::microseconds(micros)), std::string(id)};
}

}  // namespace etl
