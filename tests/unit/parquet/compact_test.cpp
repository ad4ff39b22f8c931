// The compact-protocol encoder against byte layouts worked out by hand from the Thrift compact
// protocol's specification (varints, zigzag, field headers, lists, structs, binaries).
#include "etl/parquet/compact.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace etl::parquet::compact {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes varint(std::uint64_t v) {
  bytes out;
  put_varint(out, v);
  return out;
}

TEST(parquet_compact, varint_uses_seven_bits_a_byte_low_group_first) {
  EXPECT_EQ(varint(0), (bytes{0x00}));
  EXPECT_EQ(varint(1), (bytes{0x01}));
  EXPECT_EQ(varint(127), (bytes{0x7F}));
  EXPECT_EQ(varint(128), (bytes{0x80, 0x01}));
  EXPECT_EQ(varint(300), (bytes{0xAC, 0x02}));  // 300 = 0b10'0101100
  EXPECT_EQ(varint(16384), (bytes{0x80, 0x80, 0x01}));
  EXPECT_EQ(varint(std::numeric_limits<std::uint64_t>::max()),
            (bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST(parquet_compact, zigzag_interleaves_negative_and_positive) {
  EXPECT_EQ(zigzag(0), 0u);
  EXPECT_EQ(zigzag(-1), 1u);
  EXPECT_EQ(zigzag(1), 2u);
  EXPECT_EQ(zigzag(-2), 3u);
  EXPECT_EQ(zigzag(2147483647), 4294967294u);
  EXPECT_EQ(zigzag(-2147483648LL), 4294967295u);
  EXPECT_EQ(zigzag(std::numeric_limits<std::int64_t>::max()),
            std::numeric_limits<std::uint64_t>::max() - 1);
  EXPECT_EQ(zigzag(std::numeric_limits<std::int64_t>::min()),
            std::numeric_limits<std::uint64_t>::max());
}

TEST(parquet_compact, short_field_header_packs_delta_and_type) {
  bytes out;
  writer w(out);
  w.field_i32(1, 1);    // delta 1, type 5 (i32): 0x15, then zigzag(1) = 2
  w.field_i64(3, -1);   // delta 2, type 6 (i64): 0x26, then zigzag(-1) = 1
  w.field_i32(18, 64);  // delta 15, the largest short one: 0xF5, then zigzag(64) = 128
  w.end();              // stop
  EXPECT_EQ(out, (bytes{0x15, 0x02, 0x26, 0x01, 0xF5, 0x80, 0x01, 0x00}));
}

TEST(parquet_compact, long_field_header_when_the_delta_exceeds_15) {
  bytes out;
  writer w(out);
  w.field_i32(1, 7);   // 0x15 0x0E
  w.field_i32(17, 1);  // delta 16: the type byte 0x05, then the id 17 zigzagged (34 = 0x22)
  w.end();
  EXPECT_EQ(out, (bytes{0x15, 0x0E, 0x05, 0x22, 0x02, 0x00}));
}

TEST(parquet_compact, booleans_are_the_field_type_itself) {
  bytes out;
  writer w(out);
  w.field_bool(1, true);   // type 1: true
  w.field_bool(2, false);  // type 2: false
  w.end();
  EXPECT_EQ(out, (bytes{0x11, 0x12, 0x00}));
}

TEST(parquet_compact, binary_is_a_varint_length_then_the_bytes) {
  bytes out;
  writer w(out);
  w.field_binary(4, "abc");  // delta 4, type 8: 0x48
  w.field_binary(5, "");     // delta 1: 0x18, length 0
  w.end();
  EXPECT_EQ(out, (bytes{0x48, 0x03, 'a', 'b', 'c', 0x18, 0x00, 0x00}));
}

TEST(parquet_compact, double_is_eight_bytes_little_endian) {
  bytes out;
  writer w(out);
  w.field_double(1, 1.0);  // 0x3FF0000000000000
  w.end();
  EXPECT_EQ(out, (bytes{0x17, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x00}));
}

TEST(parquet_compact, short_list_header_packs_size_and_element_type) {
  bytes out;
  writer w(out);
  w.begin_list_field(2, type::i32, 2);  // field: delta 2, type 9 (list) = 0x29; 2 << 4 | 5
  w.element_i32(0);
  w.element_i32(3);
  w.begin_list_field(3, type::binary, 1);  // 0x19; 1 << 4 | 8
  w.element_binary("id");
  w.end();
  EXPECT_EQ(out, (bytes{0x29, 0x25, 0x00, 0x06, 0x19, 0x18, 0x02, 'i', 'd', 0x00}));
}

TEST(parquet_compact, long_list_header_from_15_elements) {
  bytes out;
  writer w(out);
  w.begin_list_field(1, type::i32, 20);  // 0x19; then 0xF5 and the size as a varint
  for (int i = 0; i < 20; ++i)
    w.element_i32(1);
  w.end();
  bytes want{0x19, 0xF5, 20};
  want.insert(want.end(), 20, 0x02);
  want.push_back(0x00);
  EXPECT_EQ(out, want);

  bytes fourteen;
  writer w14(fourteen);
  w14.begin_list_field(1, type::i32, 14);  // still short: 14 << 4 | 5 = 0xE5
  EXPECT_EQ(fourteen, (bytes{0x19, 0xE5}));
}

TEST(parquet_compact, nested_struct_restarts_deltas_and_restores_the_outer_ones) {
  bytes out;
  writer w(out);
  w.field_i32(1, 1);        // 0x15 0x02
  w.begin_struct_field(3);  // delta 2, type 12: 0x2C
  w.field_i32(1, 5);        // inner delta from 0: 0x15 0x0A
  w.end_struct();           // inner stop
  w.field_i32(4, 2);        // outer delta from 3: 0x15 0x04
  w.end();
  EXPECT_EQ(out, (bytes{0x15, 0x02, 0x2C, 0x15, 0x0A, 0x00, 0x15, 0x04, 0x00}));
}

TEST(parquet_compact, list_of_structs) {
  bytes out;
  writer w(out);
  w.begin_list_field(1, type::struct_, 2);  // 0x19; 2 << 4 | 12 = 0x2C
  w.begin_struct_element();
  w.field_binary(4, "a");  // 0x48 0x01 'a'
  w.end_struct();
  w.begin_struct_element();
  w.end_struct();     // an empty struct is its stop byte alone
  w.field_i64(2, 0);  // outer delta from 1: 0x16 0x00
  w.end();
  EXPECT_EQ(out, (bytes{0x19, 0x2C, 0x48, 0x01, 'a', 0x00, 0x00, 0x16, 0x00, 0x00}));
}

}  // namespace
}  // namespace etl::parquet::compact
