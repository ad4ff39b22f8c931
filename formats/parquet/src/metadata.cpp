#include "metadata.hpp"

#include "etl/parquet/compact.hpp"

namespace etl::parquet::detail {
namespace {

// FieldRepetitionType, ConvertedType and PageType values from the specification.
constexpr std::int32_t repetition_required = 0;
constexpr std::int32_t repetition_optional = 1;
constexpr std::int32_t converted_utf8 = 0;
constexpr std::int32_t converted_date = 6;
constexpr std::int32_t converted_timestamp_micros = 10;
constexpr std::int32_t page_type_data_page = 0;

void encode_schema_leaf(compact::writer& w, const column& c) {
  w.begin_struct_element();
  w.field_i32(1, static_cast<std::int32_t>(physical_of(c.type)));  // type
  w.field_i32(3, c.rep == repetition::required ? repetition_required : repetition_optional);
  w.field_binary(4, c.name);
  // The legacy converted_type (6) beside the LogicalType union (10): older readers know only it.
  switch (c.type) {
    case column_type::string:
      w.field_i32(6, converted_utf8);
      w.begin_struct_field(10);
      w.begin_struct_field(1);  // STRING: an empty StringType
      w.end_struct();
      w.end_struct();
      break;
    case column_type::date:
      w.field_i32(6, converted_date);
      w.begin_struct_field(10);
      w.begin_struct_field(6);  // DATE: an empty DateType
      w.end_struct();
      w.end_struct();
      break;
    case column_type::timestamp:
      w.field_i32(6, converted_timestamp_micros);
      w.begin_struct_field(10);
      w.begin_struct_field(8);  // TIMESTAMP: TimestampType
      w.field_bool(1, true);    // isAdjustedToUTC
      w.begin_struct_field(2);  // unit: the TimeUnit union
      w.begin_struct_field(2);  // MICROS: an empty MicroSeconds
      w.end_struct();
      w.end_struct();
      w.end_struct();
      w.end_struct();
      break;
    default:
      break;
  }
  w.end_struct();
}

void encode_column_chunk(compact::writer& w, const column& c, codec cd, const chunk_meta& m) {
  w.begin_struct_element();            // ColumnChunk
  w.field_i64(2, m.data_page_offset);  // file_offset: where the chunk starts
  w.begin_struct_field(3);             // meta_data: ColumnMetaData
  w.field_i32(1, static_cast<std::int32_t>(physical_of(c.type)));
  const bool levels = c.rep == repetition::optional;
  w.begin_list_field(2, compact::type::i32, levels ? 2 : 1);  // encodings
  w.element_i32(static_cast<std::int32_t>(encoding_id::plain));
  if (levels)
    w.element_i32(static_cast<std::int32_t>(encoding_id::rle));
  w.begin_list_field(3, compact::type::binary, 1);  // path_in_schema
  w.element_binary(c.name);
  w.field_i32(4, codec_id(cd));
  w.field_i64(5, m.num_values);
  w.field_i64(6, m.total_uncompressed_size);
  w.field_i64(7, m.total_compressed_size);
  w.field_i64(9, m.data_page_offset);
  w.begin_struct_field(12);  // statistics
  w.field_i64(3, m.null_count);
  // Only the non-deprecated max_value (5) and min_value (6): ordered by the column's
  // ColumnOrder (TypeDefinedOrder), where the deprecated min/max were signed bytewise.
  if (m.max_value)
    w.field_binary(5, *m.max_value);
  if (m.min_value)
    w.field_binary(6, *m.min_value);
  w.end_struct();
  w.end_struct();  // ColumnMetaData
  w.end_struct();  // ColumnChunk
}

}  // namespace

physical_type physical_of(column_type t) noexcept {
  switch (t) {
    case column_type::int32:
    case column_type::date:
      return physical_type::int32;
    case column_type::int64:
    case column_type::timestamp:
      return physical_type::int64;
    case column_type::float64:
      return physical_type::double_;
    case column_type::boolean:
      return physical_type::boolean;
    case column_type::string:
      return physical_type::byte_array;
  }
  return physical_type::byte_array;
}

std::int32_t codec_id(codec c) noexcept {
  switch (c) {
    case codec::uncompressed:
      return 0;
    case codec::snappy:
      return 1;
    case codec::zstd:
      return 6;
  }
  return 0;
}

void encode_data_page_header(std::vector<std::uint8_t>& out, std::int32_t uncompressed_size,
                             std::int32_t compressed_size, std::int32_t num_values) {
  compact::writer w(out);
  w.field_i32(1, page_type_data_page);
  w.field_i32(2, uncompressed_size);
  w.field_i32(3, compressed_size);
  w.begin_struct_field(5);  // data_page_header: DataPageHeader
  w.field_i32(1, num_values);
  w.field_i32(2, static_cast<std::int32_t>(encoding_id::plain));  // values
  w.field_i32(3, static_cast<std::int32_t>(encoding_id::rle));    // definition levels
  w.field_i32(4, static_cast<std::int32_t>(encoding_id::rle));    // repetition levels
  w.end_struct();
  w.end();
}

void encode_file_metadata(std::vector<std::uint8_t>& out, const schema& s, codec c,
                          std::int64_t num_rows, const std::vector<row_group_meta>& row_groups,
                          std::string_view created_by) {
  compact::writer w(out);
  w.field_i32(1, 1);  // version
  const auto n = static_cast<std::uint32_t>(s.columns.size());
  w.begin_list_field(2, compact::type::struct_, n + 1);  // schema: the root, then the leaves
  w.begin_struct_element();
  w.field_binary(4, "schema");
  w.field_i32(5, static_cast<std::int32_t>(n));  // num_children
  w.end_struct();
  for (const auto& col : s.columns)
    encode_schema_leaf(w, col);
  w.field_i64(3, num_rows);
  w.begin_list_field(4, compact::type::struct_, static_cast<std::uint32_t>(row_groups.size()));
  for (const auto& rg : row_groups) {
    w.begin_struct_element();  // RowGroup
    w.begin_list_field(1, compact::type::struct_, n);
    std::int64_t uncompressed = 0;
    std::int64_t compressed = 0;
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      encode_column_chunk(w, s.columns[i], c, rg.columns[i]);
      uncompressed += rg.columns[i].total_uncompressed_size;
      compressed += rg.columns[i].total_compressed_size;
    }
    w.field_i64(2, uncompressed);  // total_byte_size
    w.field_i64(3, rg.num_rows);
    w.field_i64(5, rg.file_offset);
    w.field_i64(6, compressed);  // total_compressed_size
    w.end_struct();
  }
  w.field_binary(6, created_by);
  w.begin_list_field(7, compact::type::struct_, n);  // column_orders
  for (std::uint32_t i = 0; i < n; ++i) {
    w.begin_struct_element();  // ColumnOrder union
    w.begin_struct_field(1);   // TYPE_ORDER: an empty TypeDefinedOrder
    w.end_struct();
    w.end_struct();
  }
  w.end();
}

}  // namespace etl::parquet::detail
