#include "etl/pipelines/file_sink.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include <boost/json/serialize.hpp>

#include "etl/core/durable_file.hpp"
#include "etl/core/error.hpp"
#include "etl/http/url.hpp"
#include "etl/parquet/file_writer.hpp"
#include "parquet_table.hpp"

namespace etl {
namespace {

namespace js = boost::json;

// A value as the text of a CSV cell, before quoting.
std::string cell_text(const js::value& v) {
  if (v.is_null())
    return {};
  if (v.is_string())
    return std::string(v.get_string());
  return js::serialize(v);
}

void append_cell(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

// A spec field's Parquet column: REQUIRED unless nullable.
parquet::column_type parquet_type(field_type t) {
  switch (t) {
    case field_type::integer:
      return parquet::column_type::int64;
    case field_type::number:
      return parquet::column_type::float64;
    case field_type::boolean:
      return parquet::column_type::boolean;
    case field_type::epoch_ms:
    case field_type::date_time:
      return parquet::column_type::timestamp;
    case field_type::date:
      return parquet::column_type::date;
    case field_type::string:
    case field_type::string_or_number:
    case field_type::string_list:
    case field_type::string_array:
      return parquet::column_type::string;  // lists as their JSON text: the tables are flat
  }
  return parquet::column_type::string;
}

}  // namespace

namespace detail {

parquet::schema parquet_schema(std::span<const field_spec> columns) {
  parquet::schema s;
  for (const auto& f : columns) {
    s.columns.push_back(
        {f.name, parquet_type(f.type),
         f.nullable ? parquet::repetition::optional : parquet::repetition::required});
  }
  return s;
}

parquet::writer_options parquet_options(const sink_spec& sink) {
  parquet::writer_options o;
  switch (sink.compression) {
    case file_compression::none:
      o.compression = parquet::codec::uncompressed;
      break;
    case file_compression::snappy:
      o.compression = parquet::codec::snappy;
      break;
    case file_compression::zstd:
      o.compression = parquet::codec::zstd;
      break;
  }
  return o;
}

// A typed value as the cell of its column. `text` keeps the bytes a string cell points to (a
// list's JSON text) alive until the row is written.
parquet::value parquet_cell(const field_spec& f, const js::value& v, std::string& text) {
  if (v.is_null())
    return std::monostate{};
  switch (f.type) {
    case field_type::integer:
      return v.as_int64();
    case field_type::number:
      return v.to_number<double>();
    case field_type::boolean:
      return v.as_bool();
    case field_type::epoch_ms:
    case field_type::date_time:
      // Validated by the transform: the text is an ISO 8601 date-time.
      return parquet::timestamp{date_time_micros(v.as_string()).value()};
    case field_type::date:
      return parquet::date{date_days(v.as_string()).value()};
    case field_type::string:
    case field_type::string_or_number:
      return std::string_view(v.as_string());
    case field_type::string_list:
    case field_type::string_array:
      text = js::serialize(v);
      return std::string_view(text);
  }
  return std::monostate{};
}

}  // namespace detail

namespace {

using detail::parquet_cell;
using detail::parquet_options;
using detail::parquet_schema;

// Writes `rows` as a Parquet file at `path`; returns its size.
result<std::uint64_t> write_parquet(const std::filesystem::path& path, const parquet::schema& table,
                                    std::span<const field_spec> columns,
                                    std::span<const typed_record> rows,
                                    const parquet::writer_options& options) {
  auto writer = parquet::file_writer::create(path, table, options);
  if (!writer)
    return writer.error();
  std::vector<parquet::value> cells(columns.size());
  std::vector<std::string> texts(columns.size());
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < columns.size(); ++i)
      cells[i] = parquet_cell(columns[i], r.values[i], texts[i]);
    if (auto ec = writer->write_row(cells))
      return ec;
  }
  if (auto ec = writer->close())
    return ec;
  return writer->bytes_written();
}

}  // namespace

namespace {

// The CSV header of `columns`.
void append_csv_header(std::string& out, std::span<const field_spec> columns) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i)
      out += ',';
    append_cell(out, columns[i].name);
  }
  out += "\r\n";
}

// One CSV line of the values of `r` at positions `at`.
void append_csv_row(std::string& out, const typed_record& r, std::span<const std::size_t> at) {
  for (std::size_t i = 0; i < at.size(); ++i) {
    if (i)
      out += ',';
    append_cell(out, cell_text(r.values[at[i]]));
  }
  out += "\r\n";
}

// One JSON line of the values of `r` at positions `at`, named by `columns` (in that order).
void append_jsonl_row(std::string& out, const typed_record& r, std::span<const field_spec> columns,
                      std::span<const std::size_t> at) {
  js::object o;
  o.reserve(columns.size());
  for (std::size_t i = 0; i < at.size(); ++i)
    o.emplace(columns[i].name, r.values[at[i]]);
  out += js::serialize(o);
  out += '\n';
}

std::vector<std::size_t> all_positions(std::size_t n) {
  std::vector<std::size_t> at(n);
  for (std::size_t i = 0; i < n; ++i)
    at[i] = i;
  return at;
}

}  // namespace

std::string to_csv(std::span<const field_spec> fields, std::span<const typed_record> records) {
  std::string out;
  append_csv_header(out, fields);
  const auto at = all_positions(fields.size());
  for (const auto& r : records)
    append_csv_row(out, r, std::span(at).first(std::min(at.size(), r.values.size())));
  return out;
}

std::string to_jsonl(std::span<const field_spec> fields, std::span<const typed_record> records) {
  std::string out;
  const auto at = all_positions(fields.size());
  for (const auto& r : records)
    append_jsonl_row(out, r, fields, std::span(at).first(std::min(at.size(), r.values.size())));
  return out;
}

std::string partition_folder_value(const js::value& v) {
  auto out = percent_encode(cell_text(v), "._-");
  // "", "." and ".." are not folder names of their own.
  if (out.empty() || out == "." || out == "..")
    out = "%" + std::string(out.empty() ? "00" : out);
  return out;
}

std::string batch_file_name(const sink_spec& sink, const batch_naming& naming) {
  std::string out;
  std::string_view rest = sink.file_name;
  while (!rest.empty()) {
    const auto open = rest.find('{');
    out += rest.substr(0, open);
    if (open == std::string_view::npos)
      break;
    const auto close = rest.find('}', open);
    const auto name = rest.substr(open + 1, close - open - 1);
    if (name == "task.id")
      out += naming.task_id;
    else if (name == "task.date")
      out += naming.task_date;
    else if (name == "task.day")
      out += naming.task_day;
    else if (name == "batch")
      out += std::to_string(naming.batch_no);
    rest = close == std::string_view::npos ? std::string_view{} : rest.substr(close + 1);
  }
  return out + "." + std::string(to_string(sink.format));
}

result<output_file> write_batch_pages(const std::filesystem::path& root, const sink_spec& sink,
                                      int sink_index, std::span<const std::string> pages,
                                      const batch_naming& naming) {
  if (sink.kind != sink_kind::files || sink.input != sink_input::pages || naming.batch_no < 0)
    return make_error_code(errc::invalid_argument);
  std::string text;
  for (const auto& p : pages) {
    text += p;
    text += '\n';
  }
  const auto rel = std::filesystem::path(sink.folder) / batch_file_name(sink, naming);
  const auto dir = (root / rel).parent_path();
  if (auto ec = make_folders_durably(dir))
    return ec;
  if (auto ec = write_file_durably(dir, rel.filename().string(), text))
    return ec;
  return output_file{rel.generic_string(),
                     sink_index,
                     {},
                     static_cast<std::int64_t>(pages.size()),
                     static_cast<std::int64_t>(text.size())};
}

bool streams_rows(const sink_spec& sink) noexcept {
  return sink.kind == sink_kind::files && sink.input != sink_input::pages &&
         (sink.format == file_format::csv || sink.format == file_format::jsonl);
}

file_sink_stream::file_sink_stream(std::filesystem::path root, const sink_spec& sink,
                                   int sink_index, std::span<const field_spec> fields,
                                   const batch_naming& naming)
    : root_(std::move(root)),
      sink_(sink),
      sink_index_(sink_index),
      at_(field_indexes(fields, sink.columns)),
      by_(fields.size()),
      file_name_(batch_file_name(sink, naming)) {
  for (auto i : at_)
    columns_.push_back(fields[i]);
  if (!sink.partition_by.empty()) {
    by_ = static_cast<std::size_t>(
        std::find_if(fields.begin(), fields.end(),
                     [&](const field_spec& f) { return f.name == sink.partition_by; }) -
        fields.begin());
  }
}

result<file_sink_stream::part*> file_sink_stream::part_of(const typed_record& row) {
  std::string key;
  if (by_ < row.values.size())
    key = sink_.partition_by + "=" + partition_folder_value(row.values[by_]);
  auto [it, added] = parts_.try_emplace(key);
  auto& p = it->second;
  if (!added)
    return &p;
  const auto folder =
      key.empty() ? std::filesystem::path(sink_.folder) : std::filesystem::path(sink_.folder) / key;
  const auto rel_dir = file_name_.has_parent_path() ? folder / file_name_.parent_path() : folder;
  const auto name = file_name_.filename().string();
  p.rel = rel_dir / name;
  error_code ec = make_room();
  if (!ec)
    ec = make_folders_durably(root_ / rel_dir);
  if (!ec) {
    auto file = durable_file_writer::create(root_ / rel_dir, name);
    if (file)
      p.file.emplace(std::move(*file));
    else
      ec = file.error();
  }
  if (!ec && sink_.format == file_format::csv) {
    line_.clear();
    append_csv_header(line_, columns_);
    ec = p.file->append(line_);
  }
  if (ec) {
    parts_.erase(it);
    return ec;
  }
  open_.push_back(&p);
  return &p;
}

error_code file_sink_stream::make_room() {
  while (open_.size() >= max_open_files) {
    auto* oldest = open_.front();
    open_.pop_front();
    if (auto ec = oldest->file->close_for_now())
      return ec;
  }
  return {};
}

error_code file_sink_stream::add(const typed_record& row) {
  auto p = part_of(row);
  if (!p)
    return p.error();
  if (!(*p)->file->is_open()) {
    // Closed to make room for others: it reopens on the append below.
    if (auto ec = make_room())
      return ec;
    open_.push_back(*p);
  }
  line_.clear();
  if (sink_.format == file_format::csv)
    append_csv_row(line_, row, at_);
  else
    append_jsonl_row(line_, row, columns_, at_);
  ++(*p)->rows;
  return (*p)->file->append(line_);
}

result<std::vector<output_file>> file_sink_stream::publish() {
  std::vector<output_file> out;
  for (auto& [key, p] : parts_) {
    if (auto ec = p.file->publish())
      return ec;
    out.push_back({p.rel.generic_string(), sink_index_, key, p.rows,
                   static_cast<std::int64_t>(p.file->bytes())});
  }
  return out;
}

result<std::vector<output_file>> write_batch_files(const std::filesystem::path& root,
                                                   const sink_spec& sink, int sink_index,
                                                   std::span<const field_spec> fields,
                                                   std::span<const typed_record> input,
                                                   const batch_naming& naming) {
  if (sink.kind != sink_kind::files || sink.input == sink_input::pages || naming.batch_no < 0)
    return make_error_code(errc::invalid_argument);
  std::vector<typed_record> merged;
  if (!sink.key.empty())
    merged = merge_by_key(fields, sink.key, input);
  const auto records = sink.key.empty() ? input : std::span<const typed_record>(merged);
  if (streams_rows(sink)) {
    file_sink_stream stream(root, sink, sink_index, fields, naming);
    for (const auto& r : records) {
      if (auto ec = stream.add(r))
        return ec;
    }
    return stream.publish();
  }

  // Records by partition, each keeping batch order; "" for an unpartitioned sink.
  std::map<std::string, std::vector<typed_record>> parts;
  std::size_t by = fields.size();
  if (!sink.partition_by.empty()) {
    by = static_cast<std::size_t>(
        std::find_if(fields.begin(), fields.end(),
                     [&](const field_spec& f) { return f.name == sink.partition_by; }) -
        fields.begin());
  }
  for (const auto& r : records) {
    std::string part;
    if (by < r.values.size())
      part = sink.partition_by + "=" + partition_folder_value(r.values[by]);
    parts[part].push_back(r);
  }

  // The sink's columns: the header's fields, and each row's values in their order.
  const auto at = field_indexes(fields, sink.columns);
  std::vector<field_spec> columns;
  for (auto i : at)
    columns.push_back(fields[i]);
  for (auto& [part, rows] : parts) {
    for (auto& r : rows) {
      std::vector<boost::json::value> picked;
      picked.reserve(at.size());
      for (auto i : at)
        picked.push_back(std::move(r.values[i]));
      r.values = std::move(picked);
    }
  }

  // What is left is Parquet: each partition's file written from the rows grouped above.
  const auto table = parquet_schema(columns);
  std::vector<output_file> out;
  const auto file_name = std::filesystem::path(batch_file_name(sink, naming));
  const auto name = file_name.filename().string();
  for (const auto& [part, rows] : parts) {
    const auto folder = part.empty() ? std::filesystem::path(sink.folder)
                                     : std::filesystem::path(sink.folder) / part;
    const auto rel = file_name.has_parent_path() ? folder / file_name.parent_path() : folder;
    const auto dir = root / rel;
    if (auto ec = make_folders_durably(dir))
      return ec;
    std::int64_t bytes = 0;
    const auto ec = publish_file_durably(dir, name, [&](const std::filesystem::path& tmp) {
      auto written = write_parquet(tmp, table, columns, rows, parquet_options(sink));
      if (written)
        bytes = static_cast<std::int64_t>(*written);
      return written ? error_code{} : written.error();
    });
    if (ec)
      return ec;
    out.push_back({(rel / name).generic_string(), sink_index, part,
                   static_cast<std::int64_t>(rows.size()), bytes});
  }
  return out;
}

}  // namespace etl
