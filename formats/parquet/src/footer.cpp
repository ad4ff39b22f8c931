#include "footer.hpp"

#include <cerrno>
#include <cstring>

#include <boost/system/error_code.hpp>

namespace etl::parquet::detail {
namespace {

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

}  // namespace

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

error_code io_error() {
  return {errno != 0 ? errno : EIO, boost::system::system_category()};
}

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

}  // namespace etl::parquet::detail
