#include "etl/metrics/exposition.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace etl {
namespace {

bool name_char(char c, bool first, bool colon_ok) noexcept {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return alpha || (colon_ok && c == ':') || (!first && digit);
}

void check_labels(const metric_family& f, const label_set& labels) {
  for (const auto& [k, v] : labels) {
    if (!is_label_name(k))
      throw std::invalid_argument("metric " + f.name + ": invalid label name '" + k + "'");
    if (f.type == metric_type::histogram && k == "le")
      throw std::invalid_argument("histogram " + f.name + ": the label name le is reserved");
  }
}

// Writes name{k="v",...,extra_k="extra_v"} value\n; no braces when there is no label.
void write_line(std::string& out, std::string_view name, const label_set& labels,
                std::string_view extra_key, std::string_view extra_value, double value) {
  out += name;
  if (!labels.empty() || !extra_key.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first)
        out += ',';
      first = false;
      out += k;
      out += "=\"";
      out += escape_label_value(v);
      out += '"';
    }
    if (!extra_key.empty()) {
      if (!first)
        out += ',';
      out += extra_key;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

void write_histogram(std::string& out, const metric_family& f, const metric_sample& s) {
  const auto& h = s.histogram;
  if (h.buckets.size() != h.bounds.size() + 1) {
    throw std::invalid_argument("histogram " + f.name + ": " + std::to_string(h.buckets.size()) +
                                " buckets for " + std::to_string(h.bounds.size()) + " bounds");
  }
  const auto bucket_name = f.name + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.buckets[i];
    write_line(out, bucket_name, s.labels, "le", format_value(h.bounds[i]),
               static_cast<double>(cumulative));
  }
  cumulative += h.buckets.back();
  write_line(out, bucket_name, s.labels, "le", "+Inf", static_cast<double>(cumulative));
  write_line(out, f.name + "_sum", s.labels, {}, {}, h.sum);
  write_line(out, f.name + "_count", s.labels, {}, {}, static_cast<double>(cumulative));
}

}  // namespace

std::string_view to_string(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

bool is_metric_name(std::string_view name) noexcept {
  if (name.empty())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, true))
      return false;
  }
  return true;
}

bool is_label_name(std::string_view name) noexcept {
  if (name.empty() || name.starts_with("__"))
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, false))
      return false;
  }
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  // Integral values in the exactly representable range print without ".0" or an exponent.
  if (v == std::trunc(v) && std::fabs(v) < 9.007199254740992e15)
    return std::to_string(static_cast<long long>(v));
  // Shortest round-trip digits; fixed notation for everyday magnitudes ("0.0005", not the
  // shorter "5e-04"), the general form beyond them.
  char buf[64];
  const double a = std::fabs(v);
  const auto fmt = a >= 1e-9 && a < 1e15 ? std::chars_format::fixed : std::chars_format::general;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, fmt);
  return std::string(buf, ec == std::errc{} ? end : buf);
}

std::string render_text(const std::vector<metric_family>& families) {
  std::string out;
  for (const auto& f : families) {
    if (!is_metric_name(f.name))
      throw std::invalid_argument("invalid metric name '" + f.name + "'");
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += escape_help(f.help);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += to_string(f.type);
    out += '\n';
    for (const auto& s : f.samples) {
      check_labels(f, s.labels);
      if (f.type == metric_type::histogram) {
        write_histogram(out, f, s);
      } else {
        write_line(out, f.name, s.labels, {}, {}, s.value);
      }
    }
  }
  return out;
}

}  // namespace etl
