#include "etl/audit/pipeline_verification.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/pqxx>

#include "../pipelines/parquet_table.hpp"
#include "etl/parquet/read.hpp"
#include "etl/pipelines/params.hpp"

namespace etl {
namespace {

namespace js = boost::json;
namespace fs = std::filesystem;

// Examples of each finding kept for the report.
constexpr std::size_t max_examples = 5;

// Key parts joined: a unit separator never occurs in the keys of these sources.
constexpr char key_sep = '\x1f';

// Secret fields are hashed with a throwaway salt and one round: verification needs their
// validation, not their values, and the worker's salt may be unknown here.
const transform_secrets throwaway_secrets{"etl-verify", 1};

void take_page(source_reading& out, const pipeline_spec& spec, const rest_page& page) {
  ++out.pages;
  const auto* secrets = spec.secrets ? &throwaway_secrets : nullptr;
  out.children.resize(spec.children.size());
  for (const auto& raw : page.records) {
    ++out.listed;
    auto typed = raw.is_object() ? type_rows(raw.get_object(), spec, secrets)
                                 : rows_result(rejection{"record", "must be an object"});
    if (!typed) {
      ++out.rejected;
      if (out.rejections.size() < max_examples)
        out.rejections.push_back(typed.error().describe());
      continue;
    }
    out.records.push_back(std::move(typed->record));
    for (std::size_t i = 0; i < typed->children.size(); ++i)
      out.children[i].insert(out.children[i].end(),
                             std::make_move_iterator(typed->children[i].begin()),
                             std::make_move_iterator(typed->children[i].end()));
  }
}

// The key of `r` at the field positions `at`, joined.
std::string key_of(const typed_record& r, const std::vector<std::size_t>& at) {
  std::string key;
  for (std::size_t i = 0; i < at.size(); ++i) {
    if (i != 0)
      key += key_sep;
    key += key_text(r.values[at[i]]);
  }
  return key;
}

// The key of `r` as a Parquet sink's file holds it: each part the cell the writer made of it,
// as parquet::value_text writes it.
std::string parquet_key_of(const typed_record& r, const std::vector<std::size_t>& at,
                           std::span<const field_spec> fields) {
  std::string key, scratch;
  for (std::size_t i = 0; i < at.size(); ++i) {
    if (i != 0)
      key += key_sep;
    key += parquet::value_text(detail::parquet_cell(fields[at[i]], r.values[at[i]], scratch));
  }
  return key;
}

// A key for people: its parts separated by ", ".
std::string shown(std::string key) {
  std::replace(key.begin(), key.end(), key_sep, ',');
  return key;
}

// The columns that identify a sink's rows: its own key, else the source's key when the sink
// takes the records and writes that field; empty: rows are counted only.
std::vector<std::string> key_columns(const pipeline_spec& spec, const sink_spec& sink) {
  if (!sink.key.empty())
    return sink.key;
  if (sink.input != sink_input::records)
    return {};
  const auto& cols = sink.columns;
  const bool written =
      cols.empty() || std::find(cols.begin(), cols.end(), spec.source.key) != cols.end();
  return written ? std::vector<std::string>{spec.source.key} : std::vector<std::string>{};
}

// The fields a sink writes, in its order (its `columns`).
std::vector<field_spec> sink_columns(const pipeline_spec& spec, const sink_spec& sink) {
  const auto fields = spec.fields_of(sink);
  std::vector<field_spec> out;
  for (auto at : field_indexes(fields, sink.columns))
    out.push_back(fields[at]);
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

// "schema"."table" of "schema.table".
std::string quoted_table(pqxx::work& tx, const std::string& table) {
  const auto dot = table.find('.');
  if (dot == std::string::npos)
    return tx.quote_name(table);
  return tx.quote_name(table.substr(0, dot)) + "." + tx.quote_name(table.substr(dot + 1));
}

// The keys of `expected` (as JSON arrays of their parts' texts) that `sink`'s table lacks: each
// part is cast to its column's type by Postgres, so "2020-06-07T03:40:05Z" finds a timestamptz.
void check_postgres(pqxx::connection& conn, const sink_spec& sink,
                    const std::vector<std::string>& columns, const std::set<std::string>& expected,
                    sink_check& out) {
  pqxx::work tx(conn);
  const auto table = quoted_table(tx, sink.table);
  std::map<std::string, std::string> type_of;
  for (const auto& row :
       tx.exec_params("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                      "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                      table))
    type_of[row[0].as<std::string>()] = row[1].as<std::string>();
  std::string match;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto type = type_of.find(columns[i]);
    if (type == type_of.end())
      throw std::runtime_error("table " + sink.table + " has no column " + columns[i]);
    match += (i == 0 ? "" : " AND ") + std::string("t.") + tx.quote_name(columns[i]) +
             " = (e.k->>" + std::to_string(i) + ")::" + type->second;
  }
  js::array keys;
  std::vector<std::string> in_order(expected.begin(), expected.end());
  for (const auto& key : in_order) {
    js::array parts;
    std::size_t start = 0;
    for (auto sep = key.find(key_sep);; sep = key.find(key_sep, start)) {
      parts.emplace_back(
          key.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
      if (sep == std::string::npos)
        break;
      start = sep + 1;
    }
    keys.push_back(std::move(parts));
  }
  const auto missing = tx.exec_params(
      "SELECT e.n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(k, n) WHERE NOT "
      "EXISTS (SELECT 1 FROM " +
          table + " t WHERE " + match + ") ORDER BY e.n",
      js::serialize(keys));
  out.missing = static_cast<std::int64_t>(missing.size());
  out.found = out.expected - out.missing;
  for (const auto& row : missing) {
    if (out.examples.size() >= max_examples)
      break;
    out.examples.push_back(
        "missing " + shown(in_order.at(static_cast<std::size_t>(row[0].as<std::int64_t>() - 1))));
  }
}

// RFC 4180 records of a CSV text (quoted fields, doubled quotes, CRLF or LF line ends).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      if (any || !cell.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
      }
      row.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (any || !cell.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The keys (or, without key columns, one "" a row) of a CSV or JSON Lines file of the sink.
void read_file_keys(const fs::path& path, file_format format,
                    const std::vector<std::string>& columns, std::vector<std::string>& keys) {
  const auto text = read_all(path);
  if (format == file_format::csv) {
    const auto rows = parse_csv(text);
    if (rows.empty())
      return;
    std::vector<std::size_t> at;
    for (const auto& c : columns) {
      const auto found = std::find(rows[0].begin(), rows[0].end(), c);
      if (found == rows[0].end())
        throw std::runtime_error(path.string() + " has no column " + c);
      at.push_back(static_cast<std::size_t>(found - rows[0].begin()));
    }
    for (std::size_t r = 1; r < rows.size(); ++r) {
      std::string key;
      for (std::size_t i = 0; i < at.size(); ++i) {
        if (at[i] >= rows[r].size())
          throw std::runtime_error(path.string() + ": row " + std::to_string(r) + " is short");
        key += (i == 0 ? "" : std::string(1, key_sep)) + rows[r][at[i]];
      }
      keys.push_back(std::move(key));
    }
    return;
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty())
      continue;
    boost::system::error_code ec;
    const auto v = js::parse(line, ec);
    if (ec || !v.is_object())
      throw std::runtime_error(path.string() + ": a line that is not a JSON object");
    std::string key;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto* part = v.get_object().if_contains(columns[i]);
      key += (i == 0 ? "" : std::string(1, key_sep)) + (part ? key_text(*part) : std::string());
    }
    keys.push_back(std::move(key));
  }
}

// Counts found keys against the expected ones.
void compare_keys(const std::set<std::string>& expected, const std::vector<std::string>& found,
                  sink_check& out) {
  std::map<std::string, int> seen;
  for (const auto& k : found)
    ++seen[k];
  out.found = static_cast<std::int64_t>(found.size());
  const auto example = [&](const std::string& what, const std::string& key) {
    if (out.examples.size() < max_examples)
      out.examples.push_back(what + " " + shown(key));
  };
  for (const auto& k : expected) {
    if (!seen.contains(k)) {
      ++out.missing;
      example("missing", k);
    }
  }
  for (const auto& [k, n] : seen) {
    if (n > 1) {
      ++out.duplicated;
      example("duplicated", k);
    }
    if (!expected.contains(k)) {
      ++out.unexpected;
      example("unexpected", k);
    }
  }
}

void check_files(pqxx::connection& conn, const pipeline_spec& spec, const std::string& task_id,
                 int index, const sink_spec& sink, const std::vector<std::string>& columns,
                 const std::set<std::string>& expected, std::int64_t expected_rows,
                 const fs::path& root, sink_check& out) {
  std::vector<std::pair<std::string, std::int64_t>> files;
  {
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec_params(
             "SELECT path, rows FROM output_files WHERE task_id = $1 AND sink = $2 ORDER BY path",
             task_id, index))
      files.emplace_back(row[0].as<std::string>(), row[1].as<std::int64_t>());
  }
  if (sink.input == sink_input::pages) {
    std::int64_t lines = 0;
    for (const auto& [path, rows] : files)
      lines += rows;
    out.found = lines;
    out.expected = lines;
    out.note = std::to_string(files.size()) + " file(s) of raw answers, " + std::to_string(lines) +
               " line(s): not checked by key";
    return;
  }
  std::vector<std::string> keys;
  if (sink.format == file_format::parquet) {
    // Each file's footer agrees with the manifest; the key columns are read back.
    const auto table = detail::parquet_schema(sink_columns(spec, sink));
    for (const auto& [path, listed] : files) {
      auto counted = parquet::count_rows(root / path);
      if (!counted)
        throw std::runtime_error(path + ": " + counted.error().message());
      if (static_cast<std::int64_t>(*counted) != listed)
        throw std::runtime_error(path + " holds " + std::to_string(*counted) +
                                 " rows; the manifest says " + std::to_string(listed));
      if (columns.empty()) {
        keys.insert(keys.end(), static_cast<std::size_t>(*counted), std::string());
        continue;
      }
      std::vector<std::string> file_keys(static_cast<std::size_t>(*counted));
      for (std::size_t c = 0; c < columns.size(); ++c) {
        auto values = parquet::read_column_text(root / path, table, columns[c]);
        if (!values)
          throw std::runtime_error(path + ", column " + columns[c] + ": " +
                                   values.error().message());
        if (values->size() != file_keys.size())
          throw std::runtime_error(path + ", column " + columns[c] + ": " +
                                   std::to_string(values->size()) + " values for " +
                                   std::to_string(file_keys.size()) + " rows");
        for (std::size_t r = 0; r < values->size(); ++r)
          file_keys[r] += (c == 0 ? "" : std::string(1, key_sep)) + (*values)[r];
      }
      keys.insert(keys.end(), std::make_move_iterator(file_keys.begin()),
                  std::make_move_iterator(file_keys.end()));
    }
  } else {
    for (const auto& [path, rows] : files)
      read_file_keys(root / path, sink.format, columns, keys);
  }
  if (columns.empty()) {
    out.found = static_cast<std::int64_t>(keys.size());
    out.expected = expected_rows;
    if (out.found < expected_rows)
      out.missing = expected_rows - out.found;
    else if (out.found > expected_rows)
      out.duplicated = out.found - expected_rows;
    return;
  }
  compare_keys(expected, keys, out);
}

}  // namespace

net::awaitable<boost::system::result<source_reading, std::string>> read_source_again(
    http_client& client, const pipeline_spec& spec, std::string base_path,
    const source_credentials* credentials, const js::object& params,
    std::optional<incremental_start> cursor) {
  using outcome = boost::system::result<source_reading, std::string>;
  source_reading out;
  const auto& pager = spec.source.paginator;
  const auto cursor_start = cursor ? cursor->start : std::string();
  // One page, its failure as the task's own batches would name it.
  auto fetch = [&](const request_values& v) {
    return fetch_rest_page(client, spec.source, base_path, v, credentials);
  };
  if (const auto range = window_range_of(spec, params)) {
    for (std::int64_t d = 0; d < range->days; ++d) {
      const auto day = static_cast<std::int32_t>(range->first_day + d);
      std::int64_t pages = 1;
      for (std::int64_t n = 0; n < pages; ++n) {
        const request_values v{pager.first_page + n, params, date_text(day), date_text(day + 1)};
        auto got = co_await fetch(v);
        if (!got)
          co_return outcome(boost::system::in_place_error,
                            "window " + date_text(day) + ": " + got.error().what);
        if (n == 0 && got->total_pages)
          pages =
              std::min<std::int64_t>(std::max<std::int64_t>(1, *got->total_pages), max_total_pages);
        take_page(out, spec, *got);
      }
    }
  } else if (pager.chained()) {
    chain_start at;
    std::set<std::string> seen;
    for (std::int64_t n = 0; n < max_total_pages; ++n) {
      const auto v = chain_request(pager, params, cursor_start, at);
      auto got = co_await fetch(v);
      if (!got)
        co_return outcome(boost::system::in_place_error, got.error().what);
      auto next = chain_next(pager, v, *got, n + 1);
      take_page(out, spec, *got);
      if (!next)
        co_return outcome(boost::system::in_place_error, next.error());
      if (next->empty())
        break;
      if (!seen.insert(*next).second)
        co_return outcome(boost::system::in_place_error,
                          "the source's pages loop: " + *next + " came twice");
      at = *next;
    }
  } else {
    std::int64_t pages = 1;
    if (!pager.pages_param.empty()) {
      const auto* given = params.if_contains(pager.pages_param);
      pages = given != nullptr && given->is_int64() ? given->get_int64() : 1;
    }
    for (std::int64_t n = 0; n < pages; ++n) {
      const request_values v{pager.first_page + n, params, {}, {}, cursor_start};
      auto got = co_await fetch(v);
      if (!got)
        co_return outcome(boost::system::in_place_error, got.error().what);
      if (n == 0 && got->total_pages)
        pages = std::min<std::int64_t>(*got->total_pages, max_total_pages);
      take_page(out, spec, *got);
    }
  }
  if (cursor)
    out.delivered_before =
        static_cast<std::int64_t>(drop_delivered(out.records, spec, cursor->start, cursor->skip));
  co_return out;
}

boost::system::result<std::vector<sink_check>, std::string> check_sinks(
    pqxx::connection& conn, const pipeline_spec& spec, const std::string& task_id,
    const fs::path& root, const source_reading& reading) {
  using outcome = boost::system::result<std::vector<sink_check>, std::string>;
  std::vector<sink_check> out;
  try {
    for (std::size_t i = 0; i < spec.sinks.size(); ++i) {
      const auto& sink = spec.sinks[i];
      if (sink.kind == sink_kind::http_batch)
        continue;
      sink_check check;
      check.kind = std::string(to_string(sink.kind));
      check.target = sink.kind == sink_kind::postgres ? sink.table : sink.folder;
      const auto fields = spec.fields_of(sink);
      const auto columns = key_columns(spec, sink);
      check.keyed_by = joined(columns);
      const std::vector<typed_record>* rows = &reading.records;
      if (sink.input == sink_input::child) {
        const auto child = std::find_if(spec.children.begin(), spec.children.end(),
                                        [&](const child_spec& c) { return c.name == sink.child; });
        rows = &reading.children.at(static_cast<std::size_t>(child - spec.children.begin()));
      }
      std::set<std::string> expected;
      if (!columns.empty() && sink.input != sink_input::pages) {
        const auto at = field_indexes(fields, columns);
        const bool parquet = sink.kind == sink_kind::files && sink.format == file_format::parquet;
        for (const auto& r : *rows)
          expected.insert(parquet ? parquet_key_of(r, at, fields) : key_of(r, at));
      }
      check.expected = columns.empty() ? static_cast<std::int64_t>(rows->size())
                                       : static_cast<std::int64_t>(expected.size());
      if (sink.kind == sink_kind::postgres)
        check_postgres(conn, sink, columns, expected, check);
      else
        check_files(conn, spec, task_id, static_cast<int>(i), sink, columns, expected,
                    check.expected, root, check);
      out.push_back(std::move(check));
    }
  } catch (const std::exception& e) {
    return outcome(boost::system::in_place_error, e.what());
  }
  return out;
}

std::string pipeline_verdict_text(const std::string& task_id, const pipeline_spec& spec,
                                  const source_reading& reading,
                                  const std::vector<sink_check>& sinks) {
  std::ostringstream o;
  o << "task " << task_id << " (pipeline " << spec.name << "): the source lists " << reading.listed
    << " records in " << reading.pages << " page(s): " << reading.records.size() << " valid, "
    << reading.rejected << " rejected as invalid";
  if (reading.delivered_before > 0)
    o << ", " << reading.delivered_before << " delivered by an earlier task at the cursor";
  o << "\n";
  for (const auto& why : reading.rejections)
    o << "  rejected: " << why << "\n";
  bool all_ok = true;
  for (const auto& s : sinks) {
    all_ok = all_ok && s.ok();
    o << "  " << s.kind << " " << s.target;
    if (!s.keyed_by.empty())
      o << " by (" << s.keyed_by << ")";
    o << ": expected " << s.expected << ", found " << s.found << ", missing " << s.missing
      << ", duplicated " << s.duplicated << ", unexpected " << s.unexpected
      << (s.ok() ? "  ok" : "  WRONG") << "\n";
    if (!s.note.empty())
      o << "    note: " << s.note << "\n";
    for (const auto& e : s.examples)
      o << "    " << e << "\n";
  }
  if (!all_ok)
    o << "FAILED: a sink lacks, repeats or holds records the source does not list\n";
  else if (reading.rejected > 0)
    o << "OK with rejections: every valid record is in every sink once; " << reading.rejected
      << " invalid record(s) were never written\n";
  else
    o << "OK: every record the source lists is in every sink once\n";
  return o.str();
}

std::string pipeline_verdict_json(const std::string& task_id, const pipeline_spec& spec,
                                  const source_reading& reading,
                                  const std::vector<sink_check>& sinks) {
  js::object o;
  o["task_id"] = task_id;
  o["pipeline"] = spec.name;
  o["source"] = {{"pages", reading.pages},
                 {"listed", reading.listed},
                 {"valid", static_cast<std::int64_t>(reading.records.size())},
                 {"rejected", reading.rejected},
                 {"delivered_before", reading.delivered_before}};
  js::array list;
  bool all_ok = true;
  for (const auto& s : sinks) {
    all_ok = all_ok && s.ok();
    js::array examples;
    for (const auto& e : s.examples)
      examples.emplace_back(e);
    list.push_back(js::object{{"kind", s.kind},
                              {"target", s.target},
                              {"keyed_by", s.keyed_by},
                              {"expected", s.expected},
                              {"found", s.found},
                              {"missing", s.missing},
                              {"duplicated", s.duplicated},
                              {"unexpected", s.unexpected},
                              {"examples", std::move(examples)},
                              {"note", s.note},
                              {"ok", s.ok()}});
  }
  o["sinks"] = std::move(list);
  o["ok"] = all_ok;
  return js::serialize(o);
}

}  // namespace etl
