#include "core/metrics.hpp"

#include <atomic>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace callgate {

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : upper_bounds_(upper_bounds), buckets_(new std::atomic<std::uint64_t>[upper_bounds.size() + 1]) {
  for (std::size_t i = 0; i <= upper_bounds.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  const auto position = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  auto& bucket = buckets_[static_cast<std::size_t>(position - upper_bounds_.begin())];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sum_.store(sum_.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
}

std::string render_metric_labels(const MetricLabels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out.push_back(',');
    out.append(key);
    out += "=\"";
    for (const char c : value) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '"')
        out += "\\\"";
      else if (c == '\n')
        out += "\\n";
      else
        out.push_back(c);
    }
    out.push_back('"');
  }
  return out;
}

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
  return buckets;
}

MetricsShard::MetricsShard(const std::vector<MetricFamily>& families) : families_(families), series_(families.size()) {
  static std::atomic<std::uint64_t> shards_made{0};
  serial_ = ++shards_made;
}

MetricsShard::Series& MetricsShard::series(MetricId family, const MetricLabels& labels, MetricType expected) {
  if (family.index >= families_.size() || families_[family.index].type != expected)
    throw std::logic_error("metric used with the wrong type or an undeclared id");
  std::lock_guard guard(series_lock_);
  auto [entry, inserted] = series_[family.index].try_emplace(render_metric_labels(labels));
  if (inserted) {
    switch (expected) {
      case MetricType::counter:
        entry->second.counter = std::make_unique<Counter>();
        break;
      case MetricType::gauge:
        entry->second.gauge = std::make_unique<Gauge>();
        break;
      case MetricType::histogram:
        entry->second.histogram = std::make_unique<Histogram>(families_[family.index].upper_bounds);
        break;
    }
  }
  return entry->second;
}

Counter& MetricsShard::counter(MetricId family, const MetricLabels& labels) {
  return *series(family, labels, MetricType::counter).counter;
}
Gauge& MetricsShard::gauge(MetricId family, const MetricLabels& labels) {
  return *series(family, labels, MetricType::gauge).gauge;
}
Histogram& MetricsShard::histogram(MetricId family, const MetricLabels& labels) {
  return *series(family, labels, MetricType::histogram).histogram;
}

MetricId MetricsRegistry::declare(MetricFamily family) {
  if (!shards_.empty()) throw std::logic_error("metric family declared after the reactors started: " + family.name);
  for (const auto& existing : families_)
    if (existing.name == family.name) throw std::logic_error("metric family declared twice: " + family.name);
  families_.push_back(std::move(family));
  return MetricId{families_.size() - 1};
}

MetricId MetricsRegistry::declare_counter(std::string name, std::string help) {
  return declare({std::move(name), std::move(help), MetricType::counter, {}, {}});
}
MetricId MetricsRegistry::declare_gauge(std::string name, std::string help) {
  return declare({std::move(name), std::move(help), MetricType::gauge, {}, {}});
}
MetricId MetricsRegistry::declare_histogram(std::string name, std::string help, std::vector<double> upper_bounds) {
  std::sort(upper_bounds.begin(), upper_bounds.end());
  return declare({std::move(name), std::move(help), MetricType::histogram, std::move(upper_bounds), {}});
}

void MetricsRegistry::declare_gauge_function(std::string name, std::string help,
                                             std::function<std::int64_t()> read_value) {
  declare({std::move(name), std::move(help), MetricType::gauge, {}, std::move(read_value)});
}

void MetricsRegistry::declare_counter_function(std::string name, std::string help,
                                               std::function<std::int64_t()> read_value) {
  declare({std::move(name), std::move(help), MetricType::counter, {}, std::move(read_value)});
}

void MetricsRegistry::declare_counter_function(
    std::string name, std::string help, std::string label_key,
    std::function<std::vector<std::pair<std::string, std::int64_t>>()> read_values) {
  MetricFamily family{std::move(name), std::move(help), MetricType::counter, {}, {}};
  family.label_key = std::move(label_key);
  family.read_labelled_values = std::move(read_values);
  declare(std::move(family));
}

void MetricsRegistry::declare_histogram_source(std::string name, std::string help, const Histogram& source) {
  declare({std::move(name), std::move(help), MetricType::histogram, source.upper_bounds(), {}, &source});
}

MetricsShard& MetricsRegistry::add_shard() {
  shards_.push_back(std::make_unique<MetricsShard>(families_));
  return *shards_.back();
}

namespace {

// Shortest text that reads back as the same double, without exponent:
// 0.00025, not 0.00025000000000000001 or 2.5e-04.
std::string format_number(double value) {
  char text[400];
  const auto result = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  return std::string(text, result.ptr);
}

std::string with_label(const std::string& labels, const std::string& extra) {
  return "{" + labels + (labels.empty() ? "" : ",") + extra + "}";
}

struct HistogramTotals {
  std::vector<std::uint64_t> buckets;
  double sum = 0;
};

}  // namespace

std::string MetricsRegistry::render() const {
  std::string out;
  std::vector<std::size_t> order(families_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return families_[a].name < families_[b].name; });

  for (const std::size_t index : order) {
    const auto& family = families_[index];
    out += "# HELP " + family.name + " " + family.help + "\n";
    out += "# TYPE " + family.name + " ";
    out += family.type == MetricType::counter ? "counter\n"
           : family.type == MetricType::gauge ? "gauge\n"
                                              : "histogram\n";

    std::map<std::string, std::int64_t> scalar_totals;
    std::map<std::string, HistogramTotals> histogram_totals;
    const auto add_histogram = [&](const std::string& labels, const Histogram& histogram) {
      auto& totals = histogram_totals[labels];
      totals.buckets.resize(family.upper_bounds.size() + 1, 0);
      for (std::size_t b = 0; b <= family.upper_bounds.size(); ++b) totals.buckets[b] += histogram.bucket(b);
      totals.sum += histogram.sum();
    };
    if (family.read_value) scalar_totals[""] = family.read_value();
    if (family.read_labelled_values)
      for (const auto& [value, total] : family.read_labelled_values())
        scalar_totals[render_metric_labels({{family.label_key, value}})] += total;
    if (family.histogram_source) add_histogram("", *family.histogram_source);
    for (const auto& shard : shards_) {
      std::lock_guard guard(shard->series_lock_);
      for (const auto& [labels, series] : shard->series_[index]) {
        if (series.counter) scalar_totals[labels] += static_cast<std::int64_t>(series.counter->value());
        if (series.gauge) scalar_totals[labels] += series.gauge->value();
        if (series.histogram) add_histogram(labels, *series.histogram);
      }
    }
    for (const auto& [labels, total] : scalar_totals)
      out += family.name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(total) + "\n";
    for (const auto& [labels, totals] : histogram_totals) {
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < family.upper_bounds.size(); ++b) {
        cumulative += totals.buckets[b];
        out += family.name + "_bucket" + with_label(labels, "le=\"" + format_number(family.upper_bounds[b]) + "\"") +
               " " + std::to_string(cumulative) + "\n";
      }
      cumulative += totals.buckets.back();
      out += family.name + "_bucket" + with_label(labels, "le=\"+Inf\"") + " " + std::to_string(cumulative) + "\n";
      const std::string suffix_labels = labels.empty() ? "" : "{" + labels + "}";
      out += family.name + "_sum" + suffix_labels + " " + format_number(totals.sum) + "\n";
      // _count is the +Inf bucket by definition; deriving it keeps the two equal
      // even when a scrape races an observation on another reactor.
      out += family.name + "_count" + suffix_labels + " " + std::to_string(cumulative) + "\n";
    }
  }
  return out;
}

}  // namespace callgate
