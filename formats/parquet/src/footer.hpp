// Reading the footer of a Parquet file this library wrote: a bounds-checked reader of the
// Thrift compact protocol (the writer's counterpart in compact.hpp) and the FileMetaData's row
// groups with their column chunks. Private to etl_parquet: merging and reading back use it.
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etl/parquet/compact.hpp"
#include "etl/parquet/error.hpp"
#include "metadata.hpp"

namespace etl::parquet::detail {

inline constexpr std::string_view magic = "PAR1";

// A bounds-checked reader of the Thrift compact protocol: just what a footer and a page header
// need. Every read past the end sets `bad` and yields zeros, so a
// truncated footer is caught once, at the end, instead of at every step.
class compact_reader {
 public:
  compact_reader(const std::uint8_t* p, const std::uint8_t* end) : p_(p), end_(end) {}

  bool bad() const noexcept { return bad_; }
  // Where the next read starts.
  const std::uint8_t* position() const noexcept { return p_; }
  // One raw byte (a run's value in the RLE/bit-packed hybrid, say).
  std::uint8_t raw_byte() { return byte(); }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto b = byte();
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return v;
    }
    bad_ = true;
    return 0;
  }
  std::int64_t zigzag() {
    const auto u = varint();
    return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
  }
  std::string binary() {
    const auto n = varint();
    if (n > static_cast<std::uint64_t>(end_ - p_)) {
      bad_ = true;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }

  // The next field of the open struct: its id and type; type 0 is the struct's end. A boolean
  // field's value is its type (1 true, 2 false).
  std::pair<std::int16_t, std::uint8_t> field(std::int16_t& last_id) {
    const auto b = byte();
    const std::uint8_t t = b & 0x0f;
    if (t == 0)
      return {0, 0};
    const auto delta = static_cast<std::int16_t>(b >> 4);
    last_id = delta != 0 ? static_cast<std::int16_t>(last_id + delta)
                         : static_cast<std::int16_t>(zigzag());
    return {last_id, t};
  }

  // A list's element type and size.
  std::pair<std::uint8_t, std::uint64_t> list() {
    const auto b = byte();
    const std::uint64_t small = b >> 4;
    return {static_cast<std::uint8_t>(b & 0x0f), small == 15 ? varint() : small};
  }

  // Skips one value of type `t` (a field's or an element's).
  void skip(std::uint8_t t, int depth = 0) {
    if (depth > 64) {
      bad_ = true;
      return;
    }
    switch (static_cast<compact::type>(t)) {
      case compact::type::boolean_true:
      case compact::type::boolean_false:
        return;  // in the field header (as a list element it is a byte: see skip_element)
      case compact::type::i8:
        byte();
        return;
      case compact::type::i16:
      case compact::type::i32:
      case compact::type::i64:
        varint();
        return;
      case compact::type::double_:
        advance(8);
        return;
      case compact::type::binary:
        binary();
        return;
      case compact::type::list:
      case compact::type::set: {
        const auto [element, n] = list();
        for (std::uint64_t i = 0; i < n && !bad_; ++i)
          skip_element(element, depth + 1);
        return;
      }
      case compact::type::map: {
        const auto n = varint();
        if (n == 0)
          return;
        const auto kv = byte();
        for (std::uint64_t i = 0; i < n && !bad_; ++i) {
          skip_element(static_cast<std::uint8_t>(kv >> 4), depth + 1);
          skip_element(static_cast<std::uint8_t>(kv & 0x0f), depth + 1);
        }
        return;
      }
      case compact::type::struct_: {
        std::int16_t id = 0;
        for (auto f = field(id); f.second != 0 && !bad_; f = field(id))
          skip(f.second, depth + 1);
        return;
      }
    }
    bad_ = true;
  }

 private:
  void skip_element(std::uint8_t t, int depth) {
    if (t == static_cast<std::uint8_t>(compact::type::boolean_true) ||
        t == static_cast<std::uint8_t>(compact::type::boolean_false)) {
      byte();
      return;
    }
    skip(t, depth);
  }
  std::uint8_t byte() {
    if (p_ >= end_) {
      bad_ = true;
      return 0;
    }
    return *p_++;
  }
  void advance(std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) {
      bad_ = true;
      return;
    }
    p_ += n;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  bool bad_ = false;
};

inline constexpr std::uint8_t t_i32 = static_cast<std::uint8_t>(compact::type::i32);
inline constexpr std::uint8_t t_i64 = static_cast<std::uint8_t>(compact::type::i64);
inline constexpr std::uint8_t t_binary = static_cast<std::uint8_t>(compact::type::binary);
inline constexpr std::uint8_t t_list = static_cast<std::uint8_t>(compact::type::list);
inline constexpr std::uint8_t t_struct = static_cast<std::uint8_t>(compact::type::struct_);

// A column chunk as the footer describes it: detail::chunk_meta with its name, physical type and
// codec (checked against the schema a caller expects).
struct read_chunk {
  detail::chunk_meta meta;
  std::string name;
  std::int32_t physical = -1;
  std::int32_t codec = -1;
};

struct read_row_group {
  std::vector<read_chunk> columns;
  std::int64_t num_rows = 0;
};

// FileMetaData's row groups (4): each RowGroup's columns (1) and num_rows (3); nullopt when the
// footer cannot be read.
std::optional<std::vector<read_row_group>> read_footer(const std::uint8_t* p,
                                                       const std::uint8_t* end);

// The last system error (errno), EIO when none is set.
error_code io_error();

// The row groups of the Parquet file open in `in`, and where its footer starts. Fails with
// errc::not_mergeable for a file that is not Parquet or whose footer cannot be read.
result<std::vector<read_row_group>> footer_of(std::ifstream& in, std::uint64_t& footer_start);

}  // namespace etl::parquet::detail
