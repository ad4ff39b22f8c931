#include "etl/parquet/merge.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "footer.hpp"

namespace etl::parquet {
namespace {

using detail::footer_of;
using detail::io_error;
using detail::magic;
using detail::read_row_group;

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

}  // namespace

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
