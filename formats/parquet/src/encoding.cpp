#include "etl/parquet/encoding.hpp"

#include <algorithm>
#include <bit>

#include "etl/parquet/compact.hpp"

namespace etl::parquet::encoding {
namespace {

template <class U>
void put_le(std::vector<std::uint8_t>& out, U v) {
  for (std::size_t i = 0; i < sizeof(U); ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// One bit-packed run of `values` (a multiple of 8 of them): header (groups << 1 | 1), then the
// values' bits packed from the lowest bit of each byte up.
void bit_packed_run(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> values,
                    int bit_width) {
  compact::put_varint(out, ((values.size() / 8) << 1) | 1);
  std::uint32_t acc = 0;
  int bits = 0;
  for (auto v : values) {
    acc |= static_cast<std::uint32_t>(v) << bits;
    bits += bit_width;
    while (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(acc));
      acc >>= 8;
      bits -= 8;
    }
  }
  // 8 values of bit_width bits are bit_width whole bytes: nothing is left over.
}

// One RLE run: header (count << 1), then the value in ceil(bit_width / 8) bytes (one here).
void rle_run(std::vector<std::uint8_t>& out, std::size_t count, std::uint8_t value) {
  compact::put_varint(out, count << 1);
  out.push_back(value);
}

}  // namespace

void rle_hybrid(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> values,
                int bit_width) {
  std::vector<std::uint8_t> pending;  // values waiting for a bit-packed run
  std::size_t i = 0;
  while (i < values.size()) {
    std::size_t run = 1;
    while (i + run < values.size() && values[i + run] == values[i])
      ++run;
    // A bit-packed run holds whole groups of 8: top the pending values up to a group boundary
    // from this run before deciding whether the rest is long enough to be an RLE run.
    const std::size_t fill = std::min(run, (8 - pending.size() % 8) % 8);
    if (run - fill >= 8) {
      pending.insert(pending.end(), fill, values[i]);
      if (!pending.empty())
        bit_packed_run(out, pending, bit_width);
      pending.clear();
      rle_run(out, run - fill, values[i]);
    } else {
      pending.insert(pending.end(), run, values[i]);
    }
    i += run;
  }
  if (!pending.empty()) {
    // The reader knows the number of values from the page header: padding zeros are ignored.
    pending.resize((pending.size() + 7) / 8 * 8, 0);
    bit_packed_run(out, pending, bit_width);
  }
}

void plain_i32(std::vector<std::uint8_t>& out, std::int32_t v) {
  put_le(out, static_cast<std::uint32_t>(v));
}

void plain_i64(std::vector<std::uint8_t>& out, std::int64_t v) {
  put_le(out, static_cast<std::uint64_t>(v));
}

void plain_double(std::vector<std::uint8_t>& out, double v) {
  put_le(out, std::bit_cast<std::uint64_t>(v));
}

void plain_byte_array(std::vector<std::uint8_t>& out, std::string_view bytes) {
  put_le(out, static_cast<std::uint32_t>(bytes.size()));
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  out.insert(out.end(), p, p + bytes.size());
}

void plain_bool(std::vector<std::uint8_t>& out, std::size_t index, bool v) {
  if (index % 8 == 0)
    out.push_back(0);
  if (v)
    out.back() |= static_cast<std::uint8_t>(1u << (index % 8));
}

}  // namespace etl::parquet::encoding
