// The Prometheus text exposition format (version 0.0.4): metric families as plain values, and
// the renderer that turns them into what a scrape of /metrics answers.
//
// A family is a name, a help text, a type and its samples, each sample a label set with a
// value (counter, gauge) or bucket counts, sum and count (histogram). The renderer writes the
// HELP and TYPE lines, escapes help texts and label values, and writes a histogram as
// cumulative `_bucket{le="..."}` lines ending with `le="+Inf"`, then `_sum` and `_count`.
// Conventions this code base follows: names start with `etl_`, counters end in `_total`, values
// are in base units (`_seconds`, `_bytes`), label values come from small fixed sets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etl {

// What /metrics answers as Content-Type.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type { counter, gauge, histogram };

std::string_view to_string(metric_type t) noexcept;

// Label names and values, in the order they are written.
using label_set = std::vector<std::pair<std::string, std::string>>;

struct histogram_value {
  std::vector<double> bounds;          // upper bounds, ascending; +Inf is implicit
  std::vector<std::uint64_t> buckets;  // observations per bucket, NOT cumulative; the last one
                                       // (index bounds.size()) is the +Inf bucket
  double sum = 0;                      // of the observations, in the family's unit
};

struct metric_sample {
  label_set labels;
  double value = 0;           // counter and gauge
  histogram_value histogram;  // histogram
};

struct metric_family {
  std::string name;  // for a counter, with its `_total` suffix
  std::string help;
  metric_type type = metric_type::gauge;
  std::vector<metric_sample> samples;
};

// True for a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) and label name
// ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool is_metric_name(std::string_view name) noexcept;
bool is_label_name(std::string_view name) noexcept;

// Escapes a label value (backslash, double quote, line feed) and a help text (backslash, line
// feed) as the format requires.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);

// A sample value as the format writes it: integers without a decimal point, other numbers in
// the shortest form that reads back the same, "+Inf", "-Inf", "NaN".
std::string format_value(double v);

// Renders the families in order, each HELP line, TYPE line, then its samples. A family with no
// sample still gets its HELP and TYPE lines. Throws std::invalid_argument (a bug in the caller)
// for an invalid metric or label name, a histogram label named "le", or a histogram whose
// bucket count is not bounds + 1.
std::string render_text(const std::vector<metric_family>& families);

}  // namespace etl
