#include "etl/parquet/merge.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "etl/parquet/compact.hpp"
#include "metadata.hpp"

namespace etl::parquet {
namespace {

constexpr std::string_view magic = "PAR1";

// A bounds-checked reader of the Thrift compact protocol: just what a footer needs (the writer's
// counterpart in compact.hpp). Every read past the end sets `bad` and yields zeros, so a
// truncated footer is caught once, at the end, instead of at every step.
class compact_reader {
 public:
  compact_reader(const std::uint8_t* p, const std::uint8_t* end) : p_(p), end_(end) {}

  bool bad() const noexcept { return bad_; }

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

constexpr std::uint8_t t_i32 = static_cast<std::uint8_t>(compact::type::i32);
constexpr std::uint8_t t_i64 = static_cast<std::uint8_t>(compact::type::i64);
constexpr std::uint8_t t_binary = static_cast<std::uint8_t>(compact::type::binary);
constexpr std::uint8_t t_list = static_cast<std::uint8_t>(compact::type::list);
constexpr std::uint8_t t_struct = static_cast<std::uint8_t>(compact::type::struct_);

// What merging needs of a column chunk besides detail::chunk_meta: its name and codec, checked
// against the schema the caller names.
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

// Statistics: null_count (3), max_value (5), min_value (6).
void read_statistics(compact_reader& r, detail::chunk_meta& m) {
  std::int16_t id = 0;
  for (auto f = r.field(id); f.second != 0 && !r.bad(); f = r.field(id)) {
    if (f.first == 3 && f.second == t_i64)
      m.null_count = r.zigzag();
    else if (f.first == 5 && f.second == t_binary)
      m.max_value = r.binary();
    else if (f.first == 6 && f.second == t_binary)
      m.min_value = r.binary();
    else
      r.skip(f.second);
  }
}

// ColumnMetaData: type (1), path_in_schema (3), codec (4), num_values (5), sizes (6, 7),
// data_page_offset (9), statistics (12).
void read_column_meta(compact_reader& r, read_chunk& c) {
  std::int16_t id = 0;
  for (auto f = r.field(id); f.second != 0 && !r.bad(); f = r.field(id)) {
    if (f.first == 1 && f.second == t_i32) {
      c.physical = static_cast<std::int32_t>(r.zigzag());
    } else if (f.first == 3 && f.second == t_list) {
      const auto [element, n] = r.list();
      for (std::uint64_t i = 0; i < n && !r.bad(); ++i) {
        if (element != t_binary) {
          r.skip(element);
          continue;
        }
        c.name += (i == 0 ? "" : ".") + r.binary();
      }
    } else if (f.first == 4 && f.second == t_i32) {
      c.codec = static_cast<std::int32_t>(r.zigzag());
    } else if (f.first == 5 && f.second == t_i64) {
      c.meta.num_values = r.zigzag();
    } else if (f.first == 6 && f.second == t_i64) {
      c.meta.total_uncompressed_size = r.zigzag();
    } else if (f.first == 7 && f.second == t_i64) {
      c.meta.total_compressed_size = r.zigzag();
    } else if (f.first == 9 && f.second == t_i64) {
      c.meta.data_page_offset = r.zigzag();
    } else if (f.first == 12 && f.second == t_struct) {
      read_statistics(r, c.meta);
    } else {
      r.skip(f.second);
    }
  }
}

// FileMetaData's row groups (4): each RowGroup's columns (1) and num_rows (3).
std::optional<std::vector<read_row_group>> read_footer(const std::uint8_t* p,
                                                       const std::uint8_t* end) {
  compact_reader r(p, end);
  std::vector<read_row_group> groups;
  std::int16_t id = 0;
  for (auto f = r.field(id); f.second != 0 && !r.bad(); f = r.field(id)) {
    if (f.first != 4 || f.second != t_list) {
      r.skip(f.second);
      continue;
    }
    const auto [element, n] = r.list();
    if (element != t_struct)
      return std::nullopt;
    for (std::uint64_t g = 0; g < n && !r.bad(); ++g) {
      read_row_group rg;
      std::int16_t gid = 0;
      for (auto gf = r.field(gid); gf.second != 0 && !r.bad(); gf = r.field(gid)) {
        if (gf.first == 3 && gf.second == t_i64) {
          rg.num_rows = r.zigzag();
        } else if (gf.first == 1 && gf.second == t_list) {
          const auto [ce, cn] = r.list();
          if (ce != t_struct)
            return std::nullopt;
          for (std::uint64_t c = 0; c < cn && !r.bad(); ++c) {
            read_chunk chunk;
            std::int16_t cid = 0;
            for (auto cf = r.field(cid); cf.second != 0 && !r.bad(); cf = r.field(cid)) {
              if (cf.first == 3 && cf.second == t_struct)
                read_column_meta(r, chunk);
              else
                r.skip(cf.second);
            }
            rg.columns.push_back(std::move(chunk));
          }
        } else {
          r.skip(gf.second);
        }
      }
      groups.push_back(std::move(rg));
    }
  }
  if (r.bad())
    return std::nullopt;
  return groups;
}

// Whether `rg` is a row group of schema `s` in codec `c`, its chunks inside a file of `size`
// bytes (between the leading magic and the footer).
bool fits(const read_row_group& rg, const schema& s, codec c, std::uint64_t footer_start) {
  if (rg.columns.size() != s.columns.size() || rg.num_rows < 0)
    return false;
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    const auto& chunk = rg.columns[i];
    const auto& m = chunk.meta;
    if (chunk.name != s.columns[i].name ||
        chunk.physical != static_cast<std::int32_t>(detail::physical_of(s.columns[i].type)) ||
        chunk.codec != detail::codec_id(c) || m.data_page_offset < 4 ||
        m.total_compressed_size < 0 ||
        static_cast<std::uint64_t>(m.data_page_offset + m.total_compressed_size) > footer_start ||
        (s.columns[i].rep == repetition::required && m.null_count != 0))
      return false;
  }
  return true;
}

error_code io_error() {
  return {errno != 0 ? errno : EIO, boost::system::system_category()};
}

// The row groups of the Parquet file open in `in`, and where its footer starts.
result<std::vector<read_row_group>> footer_of(std::ifstream& in, std::uint64_t& footer_start) {
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  char tail[8];
  if (size < 12 || !in.seekg(static_cast<std::streamoff>(size - 8)).read(tail, 8) ||
      std::memcmp(tail + 4, magic.data(), 4) != 0)
    return make_error_code(errc::not_mergeable);
  std::uint32_t footer_len = 0;
  for (int i = 3; i >= 0; --i)
    footer_len = (footer_len << 8) | static_cast<std::uint8_t>(tail[i]);
  if (footer_len > size - 12)
    return make_error_code(errc::not_mergeable);
  footer_start = size - 8 - footer_len;
  std::vector<std::uint8_t> footer(footer_len);
  if (!in.seekg(static_cast<std::streamoff>(footer_start))
           .read(reinterpret_cast<char*>(footer.data()), footer_len))
    return io_error();
  auto read = read_footer(footer.data(), footer.data() + footer.size());
  if (!read)
    return make_error_code(errc::not_mergeable);
  return std::move(*read);
}

}  // namespace

result<std::uint64_t> count_rows(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return io_error();
  std::uint64_t footer_start = 0;
  auto groups = footer_of(in, footer_start);
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

result<merge_summary> merge_files(std::span<const std::filesystem::path> inputs,
                                  const std::filesystem::path& output, const schema& s, codec c,
                                  const std::string& created_by) {
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (!out)
    return io_error();
  out.write(magic.data(), magic.size());
  std::uint64_t at = magic.size();
  std::vector<detail::row_group_meta> groups;
  merge_summary summary;
  std::vector<char> chunk;
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return io_error();
    std::uint64_t footer_start = 0;
    auto read = footer_of(in, footer_start);
    if (!read)
      return read.error();
    for (const auto& rg : *read) {
      if (!fits(rg, s, c, footer_start))
        return make_error_code(errc::not_mergeable);
      detail::row_group_meta merged;
      merged.num_rows = rg.num_rows;
      merged.file_offset = static_cast<std::int64_t>(at);
      for (const auto& col : rg.columns) {
        // A chunk's pages are contiguous from its first page: copy them, and say where they
        // are now.
        chunk.resize(static_cast<std::size_t>(col.meta.total_compressed_size));
        if (!in.seekg(col.meta.data_page_offset).read(chunk.data(), std::ssize(chunk)))
          return io_error();
        out.write(chunk.data(), std::ssize(chunk));
        auto m = col.meta;
        m.data_page_offset = static_cast<std::int64_t>(at);
        at += chunk.size();
        merged.columns.push_back(std::move(m));
      }
      summary.rows += static_cast<std::uint64_t>(rg.num_rows);
      ++summary.row_groups;
      groups.push_back(std::move(merged));
    }
  }
  std::vector<std::uint8_t> footer;
  detail::encode_file_metadata(footer, s, c, static_cast<std::int64_t>(summary.rows), groups,
                               created_by);
  const auto len = static_cast<std::uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i)
    footer.push_back(static_cast<std::uint8_t>(len >> (8 * i)));
  footer.insert(footer.end(), magic.begin(), magic.end());
  out.write(reinterpret_cast<const char*>(footer.data()), std::ssize(footer));
  out.flush();
  if (!out)
    return io_error();
  summary.bytes = at + footer.size();
  return summary;
}

}  // namespace etl::parquet
