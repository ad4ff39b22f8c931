#include "etl/animal/home_payload.hpp"

#include <algorithm>

#include <array>
#include <charconv>
#include <cstdint>

#include "etl/animal/transform.hpp"

namespace etl {
namespace {

// Bytes JSON requires to be escaped: the quote, the backslash and the controls below 0x20.
constexpr std::array<bool, 256> needs_escape_table = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) {
    table[static_cast<std::size_t>(c)] = true;
  }
  table['"'] = true;
  table['\\'] = true;
  return table;
}();

bool needs_escape(char c) noexcept {
  return needs_escape_table[static_cast<unsigned char>(c)];
}

// The fixed text of one animal: {"id":,"name":,"friends":[],"born_at":} and the quotes of the
// name, used to size the output once.
constexpr std::size_t fixed_animal_bytes = 48;
constexpr std::size_t max_id_digits = 20;

std::size_t estimated_size(const home_animal& a) noexcept {
  std::size_t size = fixed_animal_bytes + max_id_digits + a.name.size() + iso8601_ms_length + 2;
  for (const std::string& f : a.friends) {
    size += f.size() + 3;
  }
  return size;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!needs_escape(c)) {
      continue;
    }
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      const char escaped[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 0xF]};
      out.append(escaped, sizeof escaped);
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out += '"';
}

void append_home_animal(std::string& out, const home_animal& animal) {
  char id_text[max_id_digits + 1];
  const auto id_end = std::to_chars(std::begin(id_text), std::end(id_text), animal.id).ptr;

  out += R"({"id":)";
  out.append(id_text, static_cast<std::size_t>(id_end - id_text));
  out += R"(,"name":)";
  append_json_string(out, animal.name);
  out += R"(,"friends":[)";
  bool first = true;
  for (const std::string& friend_name : animal.friends) {
    if (!first) {
      out += ',';
    }
    first = false;
    append_json_string(out, friend_name);
  }
  out += R"(],"born_at":)";
  if (animal.born_at_ms) {
    std::array<char, iso8601_ms_length> when;
    write_iso8601_ms(*animal.born_at_ms, when);
    out += '"';
    out.append(when.data(), when.size());
    out += '"';
  } else {
    out += "null";
  }
  out += '}';
}

std::string serialize_home_batch(std::span<const home_animal> batch) {
  std::size_t size = 2;
  for (const home_animal& a : batch) {
    size += estimated_size(a) + 1;
  }
  std::string out;
  out.reserve(size);
  out += '[';
  bool first = true;
  for (const home_animal& a : batch) {
    if (!first) {
      out += ',';
    }
    first = false;
    append_home_animal(out, a);
  }
  out += ']';
  return out;
}

std::vector<home_request> home_requests(std::span<const home_animal> animals) {
  std::vector<home_request> out;
  out.reserve((animals.size() + home_batch_max - 1) / home_batch_max);
  for (std::size_t first = 0; first < animals.size(); first += home_batch_max) {
    const auto part = animals.subspan(first, std::min(home_batch_max, animals.size() - first));
    out.push_back({serialize_home_batch(part), part.size()});
  }
  return out;
}

}  // namespace etl
