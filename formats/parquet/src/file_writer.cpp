#include "etl/parquet/file_writer.hpp"

#include <fcntl.h>
#include <snappy.h>
#include <unistd.h>
#include <zstd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string_view>

#include "etl/parquet/encoding.hpp"
#include "metadata.hpp"

namespace etl::parquet {
namespace {

constexpr std::string_view magic = "PAR1";
// A page is also closed at this many values, whatever its bytes: the page header's counts are
// 32-bit, and a 1-bit boolean page would otherwise hold millions of values.
constexpr std::size_t max_page_values = 1u << 20;

error_code system_error(int e) {
  return {e, boost::system::system_category()};
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF (what DuckDB checks).
bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path: eight bytes at a time while none has its high bit set.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ULL)
        break;
      p += 8;
    }
    if (p == end)
      break;
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (end - p <= n)
      return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

// A cell checked against its column and reduced to what is encoded: nothing for a null, else
// the 64-bit integer, double, bool or bytes. Checking all cells of a row before encoding any
// is what makes a rejected row leave the writer unchanged.
struct cell {
  bool null = false;
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
};

result<cell> check(const column& c, const value& v) {
  cell out;
  if (std::holds_alternative<std::monostate>(v)) {
    if (c.rep == repetition::required)
      return errc::null_in_required;
    out.null = true;
    return out;
  }
  switch (c.type) {
    case column_type::int32:
      if (const auto* x = std::get_if<std::int32_t>(&v)) {
        out.i = *x;
      } else if (const auto* y = std::get_if<std::int64_t>(&v)) {
        if (*y < std::numeric_limits<std::int32_t>::min() ||
            *y > std::numeric_limits<std::int32_t>::max()) {
          return errc::out_of_range;
        }
        out.i = *y;
      } else {
        return errc::type_mismatch;
      }
      return out;
    case column_type::int64:
      if (const auto* x = std::get_if<std::int32_t>(&v)) {
        out.i = *x;
      } else if (const auto* y = std::get_if<std::int64_t>(&v)) {
        out.i = *y;
      } else {
        return errc::type_mismatch;
      }
      return out;
    case column_type::float64:
      if (const auto* x = std::get_if<double>(&v)) {
        out.d = *x;
        return out;
      }
      return errc::type_mismatch;
    case column_type::boolean:
      if (const auto* x = std::get_if<bool>(&v)) {
        out.b = *x;
        return out;
      }
      return errc::type_mismatch;
    case column_type::string:
      if (const auto* x = std::get_if<std::string_view>(&v)) {
        if (!valid_utf8(*x))
          return errc::invalid_utf8;
        if (x->size() > std::numeric_limits<std::int32_t>::max())
          return errc::too_large;
        out.s = *x;
        return out;
      }
      return errc::type_mismatch;
    case column_type::date:
      if (const auto* x = std::get_if<date>(&v)) {
        out.i = x->days;
        return out;
      }
      return errc::type_mismatch;
    case column_type::timestamp:
      if (const auto* x = std::get_if<timestamp>(&v)) {
        out.i = x->micros;
        return out;
      }
      return errc::type_mismatch;
  }
  return errc::type_mismatch;
}

std::string le_bytes(std::uint64_t v, int n) {
  std::string s(static_cast<std::size_t>(n), '\0');
  for (int i = 0; i < n; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}

// One column: its open page and the encoded pages of the row group being built.
struct column_state {
  column spec;
  detail::physical_type physical{};

  std::vector<std::uint8_t> levels;  // the open page's definition levels, one byte each
  std::vector<std::uint8_t> values;  // the open page's PLAIN values
  std::size_t page_values = 0;       // nulls included
  std::size_t page_present = 0;      // non-null values (the boolean bit index)

  std::vector<std::uint8_t> chunk;  // the row group's encoded pages, headers included
  detail::chunk_meta meta;

  // Statistics of the chunk: min/max over non-null (and, for doubles, non-NaN) values.
  bool has_range = false;
  std::int64_t imin = 0, imax = 0;
  double dmin = 0, dmax = 0;
  bool bmin = false, bmax = false;
  std::string smin, smax;

  std::size_t buffered() const { return chunk.size() + values.size() + levels.size(); }

  void append(const cell& c) {
    ++page_values;
    if (spec.rep == repetition::optional)
      levels.push_back(c.null ? 0 : 1);
    if (c.null) {
      ++meta.null_count;
      return;
    }
    switch (physical) {
      case detail::physical_type::int32:
        encoding::plain_i32(values, static_cast<std::int32_t>(c.i));
        update(c.i);
        break;
      case detail::physical_type::int64:
        encoding::plain_i64(values, c.i);
        update(c.i);
        break;
      case detail::physical_type::double_:
        encoding::plain_double(values, c.d);
        update(c.d);
        break;
      case detail::physical_type::boolean:
        encoding::plain_bool(values, page_present, c.b);
        update(c.b);
        break;
      case detail::physical_type::byte_array:
        encoding::plain_byte_array(values, c.s);
        update(c.s);
        break;
    }
    ++page_present;
  }

  void update(std::int64_t v) {
    if (!has_range) {
      imin = imax = v;
    } else {
      imin = std::min(imin, v);
      imax = std::max(imax, v);
    }
    has_range = true;
  }
  void update(double v) {
    if (std::isnan(v))
      return;  // NaN has no place in an order: left out of min and max
    if (!has_range) {
      dmin = dmax = v;
    } else {
      dmin = std::min(dmin, v);
      dmax = std::max(dmax, v);
    }
    has_range = true;
  }
  void update(bool v) {
    if (!has_range) {
      bmin = bmax = v;
    } else {
      bmin = bmin && v;
      bmax = bmax || v;
    }
    has_range = true;
  }
  void update(std::string_view v) {
    // std::string's compare is char_traits<char>::compare, which compares as unsigned char:
    // the unsigned bytewise order the spec gives BYTE_ARRAY/STRING.
    if (!has_range) {
      smin = smax = v;
    } else if (v.compare(smin) < 0) {
      smin = v;
    } else if (v.compare(smax) > 0) {
      smax = v;
    }
    has_range = true;
  }

  // The chunk's min/max in PLAIN bytes, when it has a non-null value.
  void finish_statistics() {
    if (!has_range)
      return;
    switch (physical) {
      case detail::physical_type::int32:
        meta.min_value = le_bytes(static_cast<std::uint32_t>(imin), 4);
        meta.max_value = le_bytes(static_cast<std::uint32_t>(imax), 4);
        break;
      case detail::physical_type::int64:
        meta.min_value = le_bytes(static_cast<std::uint64_t>(imin), 8);
        meta.max_value = le_bytes(static_cast<std::uint64_t>(imax), 8);
        break;
      case detail::physical_type::double_: {
        // The spec's rule for zeros: a min of +0 is written -0 and a max of -0 is written +0,
        // so that a reader skipping by the range never misses a zero of the other sign.
        double lo = dmin, hi = dmax;
        if (lo == 0)
          lo = -0.0;
        if (hi == 0)
          hi = +0.0;
        meta.min_value = le_bytes(std::bit_cast<std::uint64_t>(lo), 8);
        meta.max_value = le_bytes(std::bit_cast<std::uint64_t>(hi), 8);
        break;
      }
      case detail::physical_type::boolean:
        meta.min_value = std::string(1, bmin ? '\1' : '\0');
        meta.max_value = std::string(1, bmax ? '\1' : '\0');
        break;
      case detail::physical_type::byte_array:
        meta.min_value = smin;
        meta.max_value = smax;
        break;
    }
  }

  void reset_chunk() {
    chunk.clear();
    meta = {};
    has_range = false;
    smin.clear();
    smax.clear();
  }
};

}  // namespace

struct file_writer::impl {
  int fd = -1;
  bool owned = false;
  bool broken = false;  // an I/O error or close(): nothing more may be written
  schema s;
  writer_options options;
  std::vector<column_state> columns;
  std::vector<detail::row_group_meta> row_groups;
  std::uint64_t offset = 0;
  std::uint64_t rows = 0;            // rows written, buffered ones included
  std::size_t row_group_rows = 0;    // rows in the row group being built
  std::vector<std::uint8_t> body;    // scratch: one page's levels and values
  std::vector<std::uint8_t> packed;  // scratch: the compressed page
  std::vector<std::uint8_t> header;  // scratch: the page header
  std::vector<cell> cells;           // scratch: a checked row
  ZSTD_CCtx* zstd = nullptr;

  ~impl() {
    if (zstd)
      ZSTD_freeCCtx(zstd);
    if (owned && fd >= 0)
      ::close(fd);
  }

  error_code write_all(const void* data, std::size_t n) {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        broken = true;
        return system_error(errno);
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      offset += static_cast<std::uint64_t>(w);
    }
    return {};
  }

  error_code compress(std::span<const std::uint8_t> in) {
    switch (options.compression) {
      case codec::uncompressed:
        packed.assign(in.begin(), in.end());
        return {};
      case codec::snappy: {
        packed.resize(snappy::MaxCompressedLength(in.size()));
        std::size_t n = 0;
        snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                            reinterpret_cast<char*>(packed.data()), &n);
        packed.resize(n);
        return {};
      }
      case codec::zstd: {
        packed.resize(ZSTD_compressBound(in.size()));
        const std::size_t n = ZSTD_compressCCtx(zstd, packed.data(), packed.size(), in.data(),
                                                in.size(), options.zstd_level);
        if (ZSTD_isError(n))
          return errc::compression_failed;
        packed.resize(n);
        return {};
      }
    }
    return errc::compression_failed;
  }

  // Closes a column's open page: levels (4-byte length, then the hybrid) and values, compressed
  // together as DataPage v1 wants, behind their page header, onto the column's chunk.
  error_code close_page(column_state& c) {
    if (c.page_values == 0)
      return {};
    body.clear();
    if (c.spec.rep == repetition::optional) {
      body.resize(4);
      encoding::rle_hybrid(body, c.levels, 1);
      const auto n = static_cast<std::uint32_t>(body.size() - 4);
      for (int i = 0; i < 4; ++i)
        body[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
    }
    body.insert(body.end(), c.values.begin(), c.values.end());
    if (auto ec = compress(body))
      return ec;
    constexpr auto max32 = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
    if (body.size() > max32 || packed.size() > max32)
      return errc::too_large;
    header.clear();
    detail::encode_data_page_header(header, static_cast<std::int32_t>(body.size()),
                                    static_cast<std::int32_t>(packed.size()),
                                    static_cast<std::int32_t>(c.page_values));
    c.chunk.insert(c.chunk.end(), header.begin(), header.end());
    c.chunk.insert(c.chunk.end(), packed.begin(), packed.end());
    c.meta.num_values += static_cast<std::int64_t>(c.page_values);
    c.meta.total_uncompressed_size += static_cast<std::int64_t>(header.size() + body.size());
    c.meta.total_compressed_size += static_cast<std::int64_t>(header.size() + packed.size());
    c.levels.clear();
    c.values.clear();
    c.page_values = 0;
    c.page_present = 0;
    return {};
  }

  error_code flush_row_group() {
    if (broken)
      return errc::writer_closed;
    if (row_group_rows == 0)
      return {};
    detail::row_group_meta rg;
    rg.num_rows = static_cast<std::int64_t>(row_group_rows);
    rg.file_offset = static_cast<std::int64_t>(offset);
    for (auto& c : columns) {
      if (auto ec = close_page(c)) {
        broken = true;
        return ec;
      }
      c.meta.data_page_offset = static_cast<std::int64_t>(offset);
      if (auto ec = write_all(c.chunk.data(), c.chunk.size()))
        return ec;
      c.finish_statistics();
      rg.columns.push_back(std::move(c.meta));
      c.reset_chunk();
      // Give back the row group's buffer: memory stays bounded by one row group's budget.
      if (c.chunk.capacity() > options.page_bytes * 4)
        c.chunk.shrink_to_fit();
    }
    row_groups.push_back(std::move(rg));
    row_group_rows = 0;
    return {};
  }

  // After a row went in: close full pages, write the row group when it is full.
  error_code after_row() {
    ++rows;
    ++row_group_rows;
    std::size_t buffered = 0;
    for (auto& c : columns) {
      if (c.values.size() + c.levels.size() >= options.page_bytes ||
          c.page_values >= max_page_values) {
        if (auto ec = close_page(c)) {
          broken = true;
          return ec;
        }
      }
      buffered += c.buffered();
    }
    if (row_group_rows >= options.row_group_rows || buffered >= options.row_group_bytes) {
      return flush_row_group();
    }
    return {};
  }

  error_code close() {
    if (broken)
      return errc::writer_closed;
    if (auto ec = flush_row_group())
      return ec;
    std::vector<std::uint8_t> footer;
    detail::encode_file_metadata(footer, s, options.compression, static_cast<std::int64_t>(rows),
                                 row_groups, options.created_by);
    if (footer.size() > std::numeric_limits<std::uint32_t>::max())
      return errc::too_large;
    const auto n = static_cast<std::uint32_t>(footer.size());
    for (int i = 0; i < 4; ++i)
      footer.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    footer.insert(footer.end(), magic.begin(), magic.end());
    if (auto ec = write_all(footer.data(), footer.size()))
      return ec;
    broken = true;  // closed: nothing more may be written
    if (owned) {
      const int fd_to_close = fd;
      fd = -1;
      if (::close(fd_to_close) != 0)
        return system_error(errno);
    }
    return {};
  }
};

namespace {

error_code validate(const schema& s, const writer_options& o) {
  if (s.columns.empty())
    return errc::invalid_schema;
  std::set<std::string_view> names;
  for (const auto& c : s.columns) {
    if (c.name.empty() || !valid_utf8(c.name) || !names.insert(c.name).second) {
      return errc::invalid_schema;
    }
  }
  if (o.row_group_rows == 0 || o.row_group_bytes == 0 || o.page_bytes == 0) {
    return errc::invalid_options;
  }
  if (o.compression == codec::zstd &&
      (o.zstd_level < ZSTD_minCLevel() || o.zstd_level > ZSTD_maxCLevel())) {
    return errc::invalid_options;
  }
  return {};
}

}  // namespace

file_writer::file_writer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
file_writer::file_writer(file_writer&&) noexcept = default;
file_writer& file_writer::operator=(file_writer&&) noexcept = default;
file_writer::~file_writer() = default;

result<file_writer> file_writer::adopt_fd(int fd, schema s, writer_options options) {
  if (auto ec = validate(s, options))
    return ec;
  auto p = std::make_unique<impl>();
  p->fd = fd;
  p->s = std::move(s);
  p->options = std::move(options);
  for (const auto& c : p->s.columns) {
    column_state st;
    st.spec = c;
    st.physical = detail::physical_of(c.type);
    p->columns.push_back(std::move(st));
  }
  if (p->options.compression == codec::zstd) {
    p->zstd = ZSTD_createCCtx();
    if (!p->zstd)
      return system_error(ENOMEM);
  }
  if (auto ec = p->write_all(magic.data(), magic.size()))
    return ec;
  return file_writer(std::move(p));
}

result<file_writer> file_writer::create(const std::filesystem::path& path, schema s,
                                        writer_options options) {
  if (auto ec = validate(s, options))
    return ec;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return system_error(errno);
  auto w = adopt_fd(fd, std::move(s), std::move(options));
  if (!w) {
    ::close(fd);
    return w.error();
  }
  w->impl_->owned = true;
  return w;
}

error_code file_writer::write_row(std::span<const value> row) {
  auto& p = *impl_;
  if (p.broken)
    return errc::writer_closed;
  if (row.size() != p.columns.size())
    return errc::wrong_column_count;
  p.cells.clear();
  for (std::size_t i = 0; i < row.size(); ++i) {
    auto c = check(p.columns[i].spec, row[i]);
    if (!c)
      return c.error();
    p.cells.push_back(*c);
  }
  for (std::size_t i = 0; i < row.size(); ++i)
    p.columns[i].append(p.cells[i]);
  return p.after_row();
}

error_code file_writer::write_columns(std::span<const std::span<const value>> columns) {
  auto& p = *impl_;
  if (p.broken)
    return errc::writer_closed;
  if (columns.size() != p.columns.size())
    return errc::wrong_column_count;
  const std::size_t n = columns.front().size();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].size() != n)
      return errc::batch_length_mismatch;
    for (const auto& v : columns[i]) {
      if (auto c = check(p.columns[i].spec, v); !c)
        return c.error();
    }
  }
  // Checked: every cell fits, so the rows go in one by one (pages and row groups cut as usual).
  std::vector<value> row(columns.size());
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t i = 0; i < columns.size(); ++i)
      row[i] = columns[i][r];
    if (auto ec = write_row(row))
      return ec;
  }
  return {};
}

error_code file_writer::flush_row_group() {
  return impl_->flush_row_group();
}
error_code file_writer::close() {
  return impl_->close();
}
std::uint64_t file_writer::rows_written() const noexcept {
  return impl_->rows;
}
std::uint64_t file_writer::bytes_written() const noexcept {
  return impl_->offset;
}

}  // namespace etl::parquet
