#include "etl/metrics/registry.hpp"

#include <cmath>
#include <stdexcept>

namespace etl {

void counter::inc(double by) noexcept {
  if (by > 0)  // false for NaN too
    value_.fetch_add(by, std::memory_order_relaxed);
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  if (bounds_.empty())
    throw std::invalid_argument("histogram: no bucket bound");
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      throw std::invalid_argument("histogram: bounds must be finite and strictly ascending");
  }
}

void histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && !(v <= bounds_[i]))
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram_value histogram::value() const {
  histogram_value h;
  h.bounds = bounds_;
  h.buckets.reserve(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    h.buckets.push_back(buckets_[i].load(std::memory_order_relaxed));
  h.sum = sum_.load(std::memory_order_relaxed);
  return h;
}

std::vector<double> default_duration_bounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <class T>
T& metric_vec<T>::with(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(meta_.name + ": " + std::to_string(values.size()) +
                                " label values for " + std::to_string(label_names_.size()) +
                                " label names");
  }
  std::lock_guard lock(mutex_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    std::unique_ptr<T> made;
    if constexpr (std::is_same_v<T, histogram>) {
      made = std::make_unique<T>(bounds_);
    } else {
      made = std::make_unique<T>();
    }
    it = series_.emplace(values, std::move(made)).first;
  }
  return *it->second;
}

template <class T>
metric_family metric_vec<T>::collect() const {
  metric_family f = meta_;
  std::lock_guard lock(mutex_);
  f.samples.reserve(series_.size());
  for (const auto& [values, cell] : series_) {
    metric_sample s;
    for (std::size_t i = 0; i < values.size(); ++i)
      s.labels.emplace_back(label_names_[i], values[i]);
    if constexpr (std::is_same_v<T, histogram>) {
      s.histogram = cell->value();
    } else {
      s.value = cell->value();
    }
    f.samples.push_back(std::move(s));
  }
  return f;
}

template class metric_vec<counter>;
template class metric_vec<gauge>;
template class metric_vec<histogram>;

void metrics_registry::check_new(const std::string& name,
                                 const std::vector<std::string>& label_names) const {
  if (!is_metric_name(name))
    throw std::invalid_argument("invalid metric name '" + name + "'");
  for (const auto& l : label_names) {
    if (!is_label_name(l))
      throw std::invalid_argument(name + ": invalid label name '" + l + "'");
  }
  for (const auto& c : counters_) {
    if (c->meta_.name == name)
      throw std::invalid_argument("metric " + name + " declared twice");
  }
  for (const auto& g : gauges_) {
    if (g->meta_.name == name)
      throw std::invalid_argument("metric " + name + " declared twice");
  }
  for (const auto& h : histograms_) {
    if (h->meta_.name == name)
      throw std::invalid_argument("metric " + name + " declared twice");
  }
}

metric_vec<counter>& metrics_registry::counter_family(std::string name, std::string help,
                                                      std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  check_new(name, label_names);
  if (!name.ends_with("_total"))
    throw std::invalid_argument("counter " + name + " must end in _total");
  metric_family meta{std::move(name), std::move(help), metric_type::counter, {}};
  counters_.emplace_back(new metric_vec<counter>(std::move(meta), std::move(label_names)));
  order_.emplace_back(metric_type::counter, counters_.size() - 1);
  return *counters_.back();
}

metric_vec<gauge>& metrics_registry::gauge_family(std::string name, std::string help,
                                                  std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  check_new(name, label_names);
  metric_family meta{std::move(name), std::move(help), metric_type::gauge, {}};
  gauges_.emplace_back(new metric_vec<gauge>(std::move(meta), std::move(label_names)));
  order_.emplace_back(metric_type::gauge, gauges_.size() - 1);
  return *gauges_.back();
}

metric_vec<histogram>& metrics_registry::histogram_family(std::string name, std::string help,
                                                          std::vector<std::string> label_names,
                                                          std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  check_new(name, label_names);
  for (const auto& l : label_names) {
    if (l == "le")
      throw std::invalid_argument("histogram " + name + ": the label name le is reserved");
  }
  (void)histogram(bounds);  // validates the bounds now rather than at the first observation
  metric_family meta{std::move(name), std::move(help), metric_type::histogram, {}};
  histograms_.emplace_back(
      new metric_vec<histogram>(std::move(meta), std::move(label_names), std::move(bounds)));
  order_.emplace_back(metric_type::histogram, histograms_.size() - 1);
  return *histograms_.back();
}

std::vector<metric_family> metrics_registry::collect() const {
  std::lock_guard lock(mutex_);
  std::vector<metric_family> out;
  out.reserve(order_.size());
  for (const auto& [type, i] : order_) {
    switch (type) {
      case metric_type::counter:
        out.push_back(counters_[i]->collect());
        break;
      case metric_type::gauge:
        out.push_back(gauges_[i]->collect());
        break;
      case metric_type::histogram:
        out.push_back(histograms_[i]->collect());
        break;
    }
  }
  return out;
}

}  // namespace etl
