// A Thrift compact-protocol encoder, just enough to write Parquet's page headers and footer.
//
// Written from the compact protocol's specification: integers are ULEB128 varints of their
// zigzag form, a field header packs the field id's delta from the previous field (1..15) with
// the type in one byte (else the type byte and the zigzagged id follow), booleans live in the
// field header's type, a struct ends with a 0 byte, and a list header packs a size below 15 with
// the element type. Nothing is read back: the writer only encodes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace etl::parquet::compact {

// The compact protocol's type codes, as they appear in field and list headers.
enum class type : std::uint8_t {
  boolean_true = 1,
  boolean_false = 2,
  i8 = 3,
  i16 = 4,
  i32 = 5,
  i64 = 6,
  double_ = 7,
  binary = 8,
  list = 9,
  set = 10,
  map = 11,
  struct_ = 12,
};

// Appends `v` as an unsigned LEB128 varint (7 bits a byte, low group first).
void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v);

// Maps a signed integer to the unsigned one whose varint is short when |v| is small.
constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

// Encodes one Thrift struct (and the structs nested in it) into a byte buffer. Fields must be
// written in increasing id order within a struct, as Parquet's writers do; end_struct() closes
// the innermost open struct, end() the outermost one.
class writer {
 public:
  explicit writer(std::vector<std::uint8_t>& out) : out_(out) {}

  // Scalar fields of the open struct.
  void field_bool(std::int16_t id, bool v);
  void field_i32(std::int16_t id, std::int32_t v);
  void field_i64(std::int16_t id, std::int64_t v);
  void field_double(std::int16_t id, double v);
  void field_binary(std::int16_t id, std::string_view bytes);

  // A struct field: its fields follow, then end_struct().
  void begin_struct_field(std::int16_t id);
  // A list field of `size` elements of `element`; the elements follow (no end marker).
  void begin_list_field(std::int16_t id, type element, std::uint32_t size);

  // List elements: plain values, or a struct element closed by end_struct().
  void element_i32(std::int32_t v);
  void element_binary(std::string_view bytes);
  void begin_struct_element();

  // Closes the innermost struct (field or element) with its stop byte.
  void end_struct();
  // Closes the outermost struct: the stop byte of the message itself.
  void end();

 private:
  void field_header(std::int16_t id, type t);

  std::vector<std::uint8_t>& out_;
  std::int16_t last_id_ = 0;
  // The enclosing structs' last field ids: a nested struct's deltas start again from 0.
  std::vector<std::int16_t> stack_;
};

}  // namespace etl::parquet::compact
