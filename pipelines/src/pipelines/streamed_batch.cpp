#include "etl/pipelines/streamed_batch.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "etl/core/durable_file.hpp"
#include "etl/core/error.hpp"

namespace etl {
namespace {

namespace js = boost::json;

// A spool line: [table, value...], table 0 for a record and i + 1 for a row of child table i.
// A double is written as {"f": its bits in hexadecimal}: Boost.JSON 1.81 reads some decimal
// texts back one unit in the last place off (3.6873099197983805E0), and a file written from the
// spool must hold the very value the record had. No typed value is an object otherwise.
void append_spool_line(std::string& out, int table, const typed_record& r) {
  js::array line;
  line.reserve(r.values.size() + 1);
  line.emplace_back(table);
  for (const auto& v : r.values) {
    if (!v.is_double()) {
      line.push_back(v);
      continue;
    }
    char hex[64];
    const auto end = std::to_chars(hex, hex + sizeof hex, v.get_double(), std::chars_format::hex);
    line.push_back(js::object{{"f", std::string_view(hex, end.ptr)}});
  }
  out += js::serialize(line);
  out += '\n';
}

// A spooled value as it was: a double back from its hexadecimal bits. False: not a spool value.
bool restore_value(js::value& v) {
  if (!v.is_object())
    return true;
  const auto* f = v.get_object().if_contains("f");
  if (f == nullptr || !f->is_string())
    return false;
  double d = 0;
  const auto& text = f->get_string();
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), d, std::chars_format::hex);
  if (ec != std::errc{} || end != text.data() + text.size())
    return false;
  v = d;
  return true;
}

error_code spool_failure() {
  return {errno != 0 ? errno : EIO, boost::system::system_category()};
}

}  // namespace

bool streamed_batch::suits(const pipeline_spec& spec) {
  return !spec.incremental && !spec.sinks.empty() &&
         std::all_of(spec.sinks.begin(), spec.sinks.end(),
                     [](const sink_spec& s) { return streams_rows(s); });
}

streamed_batch::streamed_batch(const pipeline_spec& spec, scratch_file file)
    : spec_(&spec),
      file_(std::move(file)),
      source_key_at_(field_indexes(spec.fields, std::span(&spec.source.key, 1))) {
  for (const auto& sink : spec.sinks) {
    sink_rows s;
    if (sink.input == sink_input::child) {
      for (std::size_t i = 0; i < spec.children.size(); ++i) {
        if (spec.children[i].name == sink.child)
          s.table = static_cast<int>(i) + 1;
      }
    }
    if (!sink.key.empty()) {
      s.key_at = field_indexes(spec.fields_of(sink), sink.key);
      s.by_source_key = s.table == 0 && s.key_at == source_key_at_;
    }
    sinks_.push_back(std::move(s));
  }
}

result<streamed_batch> streamed_batch::open(const pipeline_spec& spec,
                                            const std::filesystem::path& dir) {
  auto file = open_scratch_file(dir);
  if (!file)
    return file.error();
  return streamed_batch(spec, std::move(*file));
}

error_code streamed_batch::add(std::vector<typed_record>& records,
                               std::vector<std::vector<typed_record>>& children) {
  // Line by line: the stream's buffer batches the writes, and no page's text is built whole.
  const auto spool = [&](int table, const typed_record& r) {
    line_.clear();
    append_spool_line(line_, table, r);
    errno = 0;
    return std::fwrite(line_.data(), 1, line_.size(), file_.get()) == line_.size();
  };
  for (const auto& r : records) {
    if (!spool(0, r))
      return spool_failure();
    source_last_[merge_key(r, source_key_at_)] = listed_;
    ++listed_;
  }
  for (std::size_t i = 0; i < children.size() && i < spec_->children.size(); ++i) {
    for (const auto& r : children[i]) {
      if (!spool(static_cast<int>(i) + 1, r))
        return spool_failure();
    }
    children[i].clear();
  }
  records.clear();
  return {};
}

template <class Each>
error_code streamed_batch::read_spool(Each&& each) {
  errno = 0;
  if (std::fflush(file_.get()) != 0 || std::fseek(file_.get(), 0, SEEK_SET) != 0)
    return spool_failure();
  std::vector<std::int64_t> ordinal(spec_->children.size() + 1, 0);
  char* buf = nullptr;
  std::size_t cap = 0;
  error_code ec;
  for (;;) {
    const auto n = ::getline(&buf, &cap, file_.get());
    if (n < 0)
      break;
    boost::system::error_code parse_ec;
    auto line = js::parse(std::string_view(buf, static_cast<std::size_t>(n)), parse_ec);
    if (parse_ec || !line.is_array() || line.get_array().empty() ||
        !line.get_array()[0].is_int64()) {
      ec = make_error_code(errc::invalid_argument);
      break;
    }
    auto& values = line.get_array();
    const auto table = static_cast<std::size_t>(values[0].get_int64());
    if (table >= ordinal.size() || !std::all_of(values.begin() + 1, values.end(),
                                                [](js::value& v) { return restore_value(v); })) {
      ec = make_error_code(errc::invalid_argument);
      break;
    }
    typed_record row{
        {std::make_move_iterator(values.begin() + 1), std::make_move_iterator(values.end())}};
    if ((ec = each(static_cast<int>(table), ordinal[table]++, row)))
      break;
  }
  if (!ec && std::ferror(file_.get()))
    ec = spool_failure();
  std::free(buf);
  // Appends after a read go to the end, as the spool's order needs.
  std::fseek(file_.get(), 0, SEEK_END);
  return ec;
}

bool streamed_batch::kept_record(const typed_record& r, std::int64_t ordinal) const {
  const auto it = source_last_.find(merge_key(r, source_key_at_));
  return it != source_last_.end() && it->second == ordinal;
}

bool streamed_batch::sink_keeps(const sink_rows& s, const typed_record& row,
                                std::int64_t ordinal) const {
  if (s.key_at.empty() || s.by_source_key)
    return true;
  const auto it = s.last.find(merge_key(row, s.key_at));
  return it != s.last.end() && it->second == ordinal;
}

result<batch_quality> streamed_batch::survey() {
  quality_counter quality(*spec_);
  // A record sink's rows are the kept records, numbered by their record ordinal; a child
  // sink's rows are its table's rows, numbered in that table.
  const auto ec = read_spool([&](int table, std::int64_t ordinal, const typed_record& row) {
    if (table == 0 && !kept_record(row, ordinal))
      return error_code{};
    if (table == 0)
      quality.add(row);
    for (auto& s : sinks_) {
      if (s.table == table && !s.key_at.empty() && !s.by_source_key)
        s.last[merge_key(row, s.key_at)] = ordinal;
    }
    return error_code{};
  });
  if (ec)
    return ec;
  return quality.quality();
}

result<std::vector<output_file>> streamed_batch::write(const std::filesystem::path& root,
                                                       const batch_naming& naming) {
  std::deque<file_sink_stream> streams;  // not moved once made: its files point into it
  for (std::size_t i = 0; i < spec_->sinks.size(); ++i) {
    const auto& sink = spec_->sinks[i];
    streams.emplace_back(root, sink, static_cast<int>(i), spec_->fields_of(sink), naming);
  }
  const auto ec = read_spool([&](int table, std::int64_t ordinal, const typed_record& row) {
    if (table == 0 && !kept_record(row, ordinal))
      return error_code{};
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
      if (sinks_[i].table != table || !sink_keeps(sinks_[i], row, ordinal))
        continue;
      if (auto e = streams[i].add(row))
        return e;
    }
    return error_code{};
  });
  if (ec)
    return ec;
  std::vector<output_file> out;
  for (auto& s : streams) {
    auto files = s.publish();
    if (!files)
      return files.error();
    out.insert(out.end(), files->begin(), files->end());
  }
  return out;
}

}  // namespace etl
