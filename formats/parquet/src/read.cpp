#include "etl/parquet/read.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <snappy.h>
#include <zstd.h>

#include "footer.hpp"

namespace etl::parquet {
namespace {

using detail::compact_reader;

// PageHeader's type of a DATA_PAGE, and the codec ids: UNCOMPRESSED 0, SNAPPY 1, ZSTD 6 (the
// specification's values).
constexpr std::int32_t page_type_data_page = 0;
constexpr std::int32_t codec_uncompressed = 0;
constexpr std::int32_t codec_snappy = 1;
constexpr std::int32_t codec_zstd = 6;

// A page's header: its type, sizes and (DATA_PAGE) value count.
struct page_header {
  std::int32_t type = -1;
  std::int32_t uncompressed = -1;
  std::int32_t compressed = -1;
  std::int32_t num_values = -1;
};

// PageHeader: type (1), uncompressed_page_size (2), compressed_page_size (3),
// data_page_header (5) with num_values (1).
page_header read_page_header(compact_reader& r) {
  page_header h;
  std::int16_t id = 0;
  for (auto f = r.field(id); f.second != 0 && !r.bad(); f = r.field(id)) {
    if (f.first == 1 && f.second == detail::t_i32) {
      h.type = static_cast<std::int32_t>(r.zigzag());
    } else if (f.first == 2 && f.second == detail::t_i32) {
      h.uncompressed = static_cast<std::int32_t>(r.zigzag());
    } else if (f.first == 3 && f.second == detail::t_i32) {
      h.compressed = static_cast<std::int32_t>(r.zigzag());
    } else if (f.first == 5 && f.second == detail::t_struct) {
      std::int16_t did = 0;
      for (auto d = r.field(did); d.second != 0 && !r.bad(); d = r.field(did)) {
        if (d.first == 1 && d.second == detail::t_i32)
          h.num_values = static_cast<std::int32_t>(r.zigzag());
        else
          r.skip(d.second);
      }
    } else {
      r.skip(f.second);
    }
  }
  return h;
}

// The page body uncompressed, or false.
bool uncompress(std::int32_t codec, const std::uint8_t* p, std::size_t n, std::size_t size,
                std::vector<std::uint8_t>& out) {
  out.resize(size);
  switch (codec) {
    case codec_uncompressed:
      if (n != size)
        return false;
      std::memcpy(out.data(), p, n);
      return true;
    case codec_snappy: {
      std::size_t length = 0;
      if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(p), n, &length) ||
          length != size)
        return false;
      return snappy::RawUncompress(reinterpret_cast<const char*>(p), n,
                                   reinterpret_cast<char*>(out.data()));
    }
    case codec_zstd: {
      const auto got = ZSTD_decompress(out.data(), size, p, n);
      return !ZSTD_isError(got) && got == size;
    }
  }
  return false;
}

// `count` definition levels (bit width 1) of the RLE/bit-packed hybrid at [p, end); false when
// the runs end early.
bool read_levels(const std::uint8_t* p, const std::uint8_t* end, std::size_t count,
                 std::vector<std::uint8_t>& levels) {
  levels.clear();
  compact_reader r(p, end);  // its varint is the hybrid's ULEB128 run header
  while (levels.size() < count) {
    const auto header = r.varint();
    if (r.bad())
      return false;
    if ((header & 1) != 0) {
      // Bit-packed: groups of 8 values, one bit each, lowest bit first.
      const auto groups = header >> 1;
      for (std::uint64_t g = 0; g < groups; ++g) {
        const auto byte = r.raw_byte();
        for (int b = 0; b < 8 && levels.size() < count; ++b)
          levels.push_back(static_cast<std::uint8_t>((byte >> b) & 1));
      }
    } else {
      const auto run = header >> 1;
      const auto v = r.raw_byte();
      for (std::uint64_t i = 0; i < run && levels.size() < count; ++i)
        levels.push_back(v);
    }
    if (r.bad())
      return false;
  }
  return true;
}

// Little-endian unsigned integer of N bytes at `p`.
template <class U>
U load_le(const std::uint8_t* p) {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i)
    v |= static_cast<U>(p[i]) << (8 * i);
  return v;
}

// The next PLAIN value of `type` from [p, end) as value_text writes it; `bit` counts booleans.
bool next_value(column_type type, const std::uint8_t*& p, const std::uint8_t* end, std::size_t& bit,
                std::string& out) {
  const auto left = static_cast<std::size_t>(end - p);
  switch (type) {
    case column_type::boolean: {
      if (bit / 8 >= left)
        return false;
      out = ((p[bit / 8] >> (bit % 8)) & 1) != 0 ? "true" : "false";
      ++bit;
      return true;
    }
    case column_type::int32:
    case column_type::date: {
      if (left < 4)
        return false;
      const auto v = static_cast<std::int32_t>(load_le<std::uint32_t>(p));
      p += 4;
      out = value_text(type == column_type::date ? value(date{v}) : value(v));
      return true;
    }
    case column_type::int64:
    case column_type::timestamp: {
      if (left < 8)
        return false;
      const auto v = static_cast<std::int64_t>(load_le<std::uint64_t>(p));
      p += 8;
      out = value_text(type == column_type::timestamp ? value(timestamp{v}) : value(v));
      return true;
    }
    case column_type::float64: {
      if (left < 8)
        return false;
      out = value_text(std::bit_cast<double>(load_le<std::uint64_t>(p)));
      p += 8;
      return true;
    }
    case column_type::string: {
      if (left < 4)
        return false;
      const auto n = load_le<std::uint32_t>(p);
      if (n > left - 4)
        return false;
      out.assign(reinterpret_cast<const char*>(p + 4), n);
      p += 4 + n;
      return true;
    }
  }
  return false;
}

}  // namespace

result<std::uint64_t> count_rows(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return detail::io_error();
  std::uint64_t footer_start = 0;
  auto groups = detail::footer_of(in, footer_start);
  if (!groups)
    return groups.error();
  std::uint64_t rows = 0;
  for (const auto& rg : *groups) {
    if (rg.num_rows < 0)
      return make_error_code(errc::not_mergeable);
    rows += static_cast<std::uint64_t>(rg.num_rows);
  }
  return rows;
}

std::string value_text(const value& v) {
  struct visitor {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int32_t i) const { return std::to_string(i); }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      return buf;
    }
    std::string operator()(std::string_view s) const { return std::string(s); }
    std::string operator()(date d) const { return "date:" + std::to_string(d.days); }
    std::string operator()(timestamp t) const { return "ts:" + std::to_string(t.micros); }
  };
  return std::visit(visitor{}, v);
}

result<std::vector<std::string>> read_column_text(const std::filesystem::path& path,
                                                  const schema& s, std::string_view name) {
  const auto col = std::find_if(s.columns.begin(), s.columns.end(),
                                [&](const column& c) { return c.name == name; });
  if (col == s.columns.end())
    return make_error_code(errc::not_mergeable);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return detail::io_error();
  std::uint64_t footer_start = 0;
  auto groups = detail::footer_of(in, footer_start);
  if (!groups)
    return groups.error();
  const bool optional = col->rep == repetition::optional;
  std::vector<std::string> out;
  std::vector<char> chunk;
  std::vector<std::uint8_t> body, levels;
  for (const auto& rg : *groups) {
    const auto at = std::find_if(rg.columns.begin(), rg.columns.end(),
                                 [&](const detail::read_chunk& c) { return c.name == name; });
    if (at == rg.columns.end() ||
        at->physical != static_cast<std::int32_t>(detail::physical_of(col->type)) ||
        at->meta.data_page_offset < 4 || at->meta.total_compressed_size < 0 ||
        static_cast<std::uint64_t>(at->meta.data_page_offset + at->meta.total_compressed_size) >
            footer_start)
      return make_error_code(errc::not_mergeable);
    chunk.resize(static_cast<std::size_t>(at->meta.total_compressed_size));
    if (!in.seekg(at->meta.data_page_offset).read(chunk.data(), std::ssize(chunk)))
      return detail::io_error();
    const auto* p = reinterpret_cast<const std::uint8_t*>(chunk.data());
    const auto* end = p + chunk.size();
    std::int64_t values = 0;
    while (p < end) {
      compact_reader r(p, end);
      const auto h = read_page_header(r);
      const auto* page = r.position();
      if (r.bad() || h.type != page_type_data_page || h.compressed < 0 || h.uncompressed < 0 ||
          h.num_values < 0 ||
          static_cast<std::size_t>(h.compressed) > static_cast<std::size_t>(end - page) ||
          !uncompress(at->codec, page, static_cast<std::size_t>(h.compressed),
                      static_cast<std::size_t>(h.uncompressed), body))
        return make_error_code(errc::unreadable);
      p = page + h.compressed;
      const auto* v = body.data();
      const auto* v_end = body.data() + body.size();
      const auto count = static_cast<std::size_t>(h.num_values);
      if (optional) {
        if (body.size() < 4)
          return make_error_code(errc::unreadable);
        const auto n = load_le<std::uint32_t>(v);
        if (n > body.size() - 4 || !read_levels(v + 4, v + 4 + n, count, levels))
          return make_error_code(errc::unreadable);
        v += 4 + n;
      }
      std::size_t bit = 0;
      for (std::size_t i = 0; i < count; ++i) {
        if (optional && levels[i] == 0) {
          out.emplace_back();
          continue;
        }
        std::string text;
        if (!next_value(col->type, v, v_end, bit, text))
          return make_error_code(errc::unreadable);
        out.push_back(std::move(text));
      }
      values += h.num_values;
    }
    if (values != rg.num_rows)
      return make_error_code(errc::unreadable);
  }
  return out;
}

}  // namespace etl::parquet
