// Parquet's value and level encodings the writer uses: PLAIN for values, the RLE/bit-packed
// hybrid for definition levels.
//
// PLAIN: INT32/INT64 as 4/8 bytes little-endian, DOUBLE as its IEEE 754 bytes little-endian,
// BYTE_ARRAY as a 4-byte little-endian length then the bytes, BOOLEAN as one bit a value, the
// first value in the lowest bit of the first byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace etl::parquet::encoding {

// Appends the RLE/bit-packed hybrid encoding of `values` (each below 2^bit_width, bit_width 1..8)
// without the 4-byte length prefix a data page puts before it. Runs of 8 or more equal values
// become RLE runs, the rest bit-packed groups of 8 (the last one padded with zeros).
void rle_hybrid(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> values,
                int bit_width);

// PLAIN encodings of one value, appended to `out`.
void plain_i32(std::vector<std::uint8_t>& out, std::int32_t v);
void plain_i64(std::vector<std::uint8_t>& out, std::int64_t v);
void plain_double(std::vector<std::uint8_t>& out, double v);
void plain_byte_array(std::vector<std::uint8_t>& out, std::string_view bytes);
// Sets the bit of the `index`-th boolean of a PLAIN boolean run (indexes appended in order).
void plain_bool(std::vector<std::uint8_t>& out, std::size_t index, bool v);

}  // namespace etl::parquet::encoding
