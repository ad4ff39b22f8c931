// PLAIN values and the RLE/bit-packed hybrid against byte layouts from the Parquet encodings
// specification, and the hybrid decoded back by a decoder written here from the same text.
#include "etl/parquet/encoding.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace etl::parquet::encoding {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes hybrid(const std::vector<std::uint8_t>& values, int width) {
  bytes out;
  rle_hybrid(out, values, width);
  return out;
}

// Decodes `count` values of the hybrid: header varint, low bit 0 an RLE run (count << 1, then
// the value in one byte for widths up to 8), low bit 1 bit-packed groups of 8 (LSB first).
std::vector<std::uint8_t> decode(const bytes& in, int width, std::size_t count) {
  std::vector<std::uint8_t> out;
  std::size_t p = 0;
  while (out.size() < count) {
    std::uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
      const auto b = in.at(p++);
      header |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80))
        break;
    }
    if (header & 1) {
      const std::size_t n = (header >> 1) * 8;
      std::uint64_t bitpos = 0;
      for (std::size_t i = 0; i < n; ++i, bitpos += static_cast<std::uint64_t>(width)) {
        std::uint32_t v = 0;
        for (int b = 0; b < width; ++b) {
          const auto bit = bitpos + static_cast<std::uint64_t>(b);
          v |= static_cast<std::uint32_t>((in.at(p + bit / 8) >> (bit % 8)) & 1) << b;
        }
        if (out.size() < count)
          out.push_back(static_cast<std::uint8_t>(v));
      }
      p += n * static_cast<std::size_t>(width) / 8;
    } else {
      out.insert(out.end(), header >> 1, in.at(p++));
    }
  }
  EXPECT_EQ(p, in.size()) << "bytes left over after " << count << " values";
  return out;
}

TEST(parquet_encoding, long_run_is_one_rle_run) {
  EXPECT_EQ(hybrid(std::vector<std::uint8_t>(8, 1), 1), (bytes{0x10, 0x01}));  // 8 << 1, value
  EXPECT_EQ(hybrid(std::vector<std::uint8_t>(100, 1), 1), (bytes{0xC8, 0x01, 0x01}));
  EXPECT_EQ(hybrid(std::vector<std::uint8_t>(9, 0), 1), (bytes{0x12, 0x00}));
}

TEST(parquet_encoding, short_runs_are_bit_packed_lowest_bit_first) {
  // One group (1 << 1 | 1 = 0x03); 1,0,1,0,1,0,1,0 from bit 0 up is 0b01010101.
  EXPECT_EQ(hybrid({1, 0, 1, 0, 1, 0, 1, 0}, 1), (bytes{0x03, 0x55}));
  // Three values padded to a group of 8 with zeros: 1,1,0 -> 0b011.
  EXPECT_EQ(hybrid({1, 1, 0}, 1), (bytes{0x03, 0x03}));
}

TEST(parquet_encoding, bit_packing_example_of_the_specification) {
  // The spec's example: 0..7 with bit width 3 packs to 10001000 11000110 11111010.
  EXPECT_EQ(hybrid({0, 1, 2, 3, 4, 5, 6, 7}, 3), (bytes{0x03, 0x88, 0xC6, 0xFA}));
}

TEST(parquet_encoding, a_run_tops_up_the_pending_group_before_going_rle) {
  // 1, 0, then fourteen 1s: six of them complete the group 1,0,1,1,1,1,1,1 (0b11111101), the
  // remaining eight are an RLE run.
  std::vector<std::uint8_t> v{1, 0};
  v.insert(v.end(), 14, 1);
  EXPECT_EQ(hybrid(v, 1), (bytes{0x03, 0xFD, 0x10, 0x01}));
}

TEST(parquet_encoding, random_levels_decode_to_what_was_encoded) {
  std::mt19937 rng(15);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = rng() % 3000;
    const bool runs = trial % 2 == 0;  // long runs or noise
    std::vector<std::uint8_t> v;
    while (v.size() < n) {
      const std::size_t len = runs ? 1 + rng() % 40 : 1;
      v.insert(v.end(), std::min(len, n - v.size()), static_cast<std::uint8_t>(rng() % 2));
    }
    EXPECT_EQ(decode(hybrid(v, 1), 1, n), v) << "trial " << trial;
  }
}

TEST(parquet_encoding, plain_integers_are_little_endian_twos_complement) {
  bytes out;
  plain_i32(out, -2);
  plain_i32(out, 0x01020304);
  EXPECT_EQ(out, (bytes{0xFE, 0xFF, 0xFF, 0xFF, 0x04, 0x03, 0x02, 0x01}));
  out.clear();
  plain_i64(out, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(out, (bytes{0, 0, 0, 0, 0, 0, 0, 0x80}));
}

TEST(parquet_encoding, plain_double_is_ieee754_little_endian) {
  bytes out;
  plain_double(out, -2.5);  // 0xC004000000000000
  EXPECT_EQ(out, (bytes{0, 0, 0, 0, 0, 0, 0x04, 0xC0}));
}

TEST(parquet_encoding, plain_byte_array_has_a_four_byte_length) {
  bytes out;
  plain_byte_array(out, "h\xC3\xA9");  // "hé"
  plain_byte_array(out, "");
  EXPECT_EQ(out, (bytes{3, 0, 0, 0, 'h', 0xC3, 0xA9, 0, 0, 0, 0}));
}

TEST(parquet_encoding, plain_booleans_are_bits_from_the_lowest) {
  bytes out;
  const bool v[] = {true, false, true, true, false, false, false, false, true};
  for (std::size_t i = 0; i < std::size(v); ++i)
    plain_bool(out, i, v[i]);
  EXPECT_EQ(out, (bytes{0x0D, 0x01}));
}

}  // namespace
}  // namespace etl::parquet::encoding
