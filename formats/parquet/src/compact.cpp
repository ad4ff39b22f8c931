#include "etl/parquet/compact.hpp"

#include <bit>
#include <cassert>
#include <cstring>

namespace etl::parquet::compact {

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

void writer::field_header(std::int16_t id, type t) {
  assert(id > last_id_ && "compact fields must be written in increasing id order");
  const int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<std::uint8_t>((delta << 4) | static_cast<int>(t)));
  } else {
    // The long form: the type alone, then the id itself as a zigzag varint (an i16).
    out_.push_back(static_cast<std::uint8_t>(t));
    put_varint(out_, zigzag(id));
  }
  last_id_ = id;
}

void writer::field_bool(std::int16_t id, bool v) {
  // A boolean field has no payload: its value is the header's type.
  field_header(id, v ? type::boolean_true : type::boolean_false);
}

void writer::field_i32(std::int16_t id, std::int32_t v) {
  field_header(id, type::i32);
  put_varint(out_, zigzag(v));
}

void writer::field_i64(std::int16_t id, std::int64_t v) {
  field_header(id, type::i64);
  put_varint(out_, zigzag(v));
}

void writer::field_double(std::int16_t id, double v) {
  field_header(id, type::double_);
  // Eight bytes, little-endian (the compact protocol's order, unlike the binary protocol's).
  const auto bits = std::bit_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i)
    out_.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

void writer::field_binary(std::int16_t id, std::string_view bytes) {
  field_header(id, type::binary);
  element_binary(bytes);
}

void writer::begin_struct_field(std::int16_t id) {
  field_header(id, type::struct_);
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void writer::begin_list_field(std::int16_t id, type element, std::uint32_t size) {
  field_header(id, type::list);
  if (size < 15) {
    out_.push_back(static_cast<std::uint8_t>((size << 4) | static_cast<unsigned>(element)));
  } else {
    out_.push_back(static_cast<std::uint8_t>(0xF0 | static_cast<unsigned>(element)));
    put_varint(out_, size);
  }
}

void writer::element_i32(std::int32_t v) {
  put_varint(out_, zigzag(v));
}

void writer::element_binary(std::string_view bytes) {
  put_varint(out_, bytes.size());
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  out_.insert(out_.end(), p, p + bytes.size());
}

void writer::begin_struct_element() {
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void writer::end_struct() {
  assert(!stack_.empty() && "end_struct() without an open struct");
  out_.push_back(0);
  last_id_ = stack_.back();
  stack_.pop_back();
}

void writer::end() {
  assert(stack_.empty() && "end() with a nested struct still open");
  out_.push_back(0);
  last_id_ = 0;
}

}  // namespace etl::parquet::compact
