// Live metrics of one process: counters, gauges and histograms, each a family of series keyed
// by label values, updated lock-free from any thread and collected into `metric_family` values
// for the renderer (etl/metrics/exposition.hpp).
//
// A family is declared once with its label names; `with(values)` finds or creates the series
// for those label values (a short lock on the family, then atomics). Label values must come from
// small fixed sets (a route pattern, never a raw path), so the number of series stays bounded.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "etl/metrics/exposition.hpp"

namespace etl {

// A value that only goes up.
class counter {
 public:
  // Adds `by`; a negative or NaN amount is ignored (a counter never goes down).
  void inc(double by = 1) noexcept;
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double by) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted in fixed buckets, with their sum.
class histogram {
 public:
  // Throws std::invalid_argument for bounds that are empty, not finite or not strictly ascending.
  explicit histogram(std::vector<double> bounds);
  // Counts `v` in the first bucket whose bound is >= v (+Inf for larger values).
  void observe(double v) noexcept;
  histogram_value value() const;
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// Bounds for request durations in seconds, from 0.5 ms to 10 s.
std::vector<double> default_duration_bounds();

// The series of one family, by label values in the order of the family's label names.
template <class T>
class metric_vec {
 public:
  // The series for `values`, created at first use; the reference stays valid as long as the
  // registry. Throws std::invalid_argument (a bug) when the number of values is not the number
  // of label names.
  T& with(const std::vector<std::string>& values);

 private:
  friend class metrics_registry;
  metric_vec(metric_family meta, std::vector<std::string> label_names,
             std::vector<double> bounds = {})
      : meta_(std::move(meta)), label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}
  metric_family collect() const;

  metric_family meta_;  // name, help, type; no samples
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

class metrics_registry {
 public:
  // Declare a family. Throw std::invalid_argument (a bug) for an invalid metric or label name,
  // a name already declared, a counter whose name does not end in "_total", or bad bounds.
  metric_vec<counter>& counter_family(std::string name, std::string help,
                                      std::vector<std::string> label_names = {});
  metric_vec<gauge>& gauge_family(std::string name, std::string help,
                                  std::vector<std::string> label_names = {});
  metric_vec<histogram>& histogram_family(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds);

  // Every family in declaration order, its series sorted by label values.
  std::vector<metric_family> collect() const;

 private:
  void check_new(const std::string& name, const std::vector<std::string>& label_names) const;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<metric_vec<counter>>> counters_;
  std::vector<std::unique_ptr<metric_vec<gauge>>> gauges_;
  std::vector<std::unique_ptr<metric_vec<histogram>>> histograms_;
  std::vector<std::pair<metric_type, std::size_t>> order_;  // (kind, index in its vector)
};

extern template class metric_vec<counter>;
extern template class metric_vec<gauge>;
extern template class metric_vec<histogram>;

}  // namespace etl
