#include "etl/pipelines/file_sink.hpp"

#include <algorithm>
#include <map>

#include <boost/json/serialize.hpp>

#include "etl/core/durable_file.hpp"
#include "etl/core/error.hpp"

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

std::string_view extension(file_format f) {
  return f == file_format::csv ? "csv" : "jsonl";
}

}  // namespace

std::string to_csv(std::span<const field_spec> fields, std::span<const typed_record> records) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i)
      out += ',';
    append_cell(out, fields[i].name);
  }
  out += "\r\n";
  for (const auto& r : records) {
    for (std::size_t i = 0; i < r.values.size(); ++i) {
      if (i)
        out += ',';
      append_cell(out, cell_text(r.values[i]));
    }
    out += "\r\n";
  }
  return out;
}

std::string to_jsonl(std::span<const field_spec> fields, std::span<const typed_record> records) {
  std::string out;
  for (const auto& r : records) {
    js::object o;
    o.reserve(fields.size());
    for (std::size_t i = 0; i < fields.size() && i < r.values.size(); ++i)
      o.emplace(fields[i].name, r.values[i]);
    out += js::serialize(o);
    out += '\n';
  }
  return out;
}

std::string partition_folder_value(const js::value& v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto text = cell_text(v);
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  // "", "." and ".." are not folder names of their own.
  if (out.empty() || out == "." || out == "..")
    out = "%" + std::string(out.empty() ? "00" : out);
  return out;
}

result<std::vector<output_file>> write_batch_files(const std::filesystem::path& root,
                                                   const pipeline_spec& spec, int sink_index,
                                                   std::span<const typed_record> records,
                                                   std::string_view task_id, int batch_no) {
  if (sink_index < 0 || static_cast<std::size_t>(sink_index) >= spec.sinks.size() ||
      spec.sinks[static_cast<std::size_t>(sink_index)].kind != sink_kind::files || batch_no < 0)
    return make_error_code(errc::invalid_argument);
  const auto& sink = spec.sinks[static_cast<std::size_t>(sink_index)];

  // Records by partition, each keeping batch order; "" for an unpartitioned sink.
  std::map<std::string, std::vector<typed_record>> parts;
  std::size_t by = spec.fields.size();
  if (!sink.partition_by.empty()) {
    by = static_cast<std::size_t>(
        std::find_if(spec.fields.begin(), spec.fields.end(),
                     [&](const field_spec& f) { return f.name == sink.partition_by; }) -
        spec.fields.begin());
  }
  for (const auto& r : records) {
    std::string part;
    if (by < r.values.size())
      part = sink.partition_by + "=" + partition_folder_value(r.values[by]);
    parts[part].push_back(r);
  }

  // The sink's columns: the header's fields, and each row's values in their order.
  const auto at = field_indexes(spec.fields, sink.columns);
  std::vector<field_spec> columns;
  for (auto i : at)
    columns.push_back(spec.fields[i]);
  for (auto& [part, rows] : parts) {
    for (auto& r : rows) {
      std::vector<boost::json::value> picked;
      picked.reserve(at.size());
      for (auto i : at)
        picked.push_back(std::move(r.values[i]));
      r.values = std::move(picked);
    }
  }

  std::vector<output_file> out;
  const auto name = std::string(task_id) + "-" + std::to_string(batch_no) + "." +
                    std::string(extension(sink.format));
  for (const auto& [part, rows] : parts) {
    const auto rel = part.empty() ? std::filesystem::path(sink.folder)
                                  : std::filesystem::path(sink.folder) / part;
    const auto dir = root / rel;
    if (auto ec = make_folders_durably(dir))
      return ec;
    const auto text =
        sink.format == file_format::csv ? to_csv(columns, rows) : to_jsonl(columns, rows);
    if (auto ec = write_file_durably(dir, name, text))
      return ec;
    out.push_back({(rel / name).generic_string(), sink_index, part,
                   static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(text.size())});
  }
  return out;
}

}  // namespace etl
