// Metrics in the Prometheus text exposition format.
//
// Each reactor owns a MetricsShard and is the only thread that writes to it,
// so an increment is a plain relaxed load and store: no lock prefix, no
// cache line shared between cores. A scrape reads every shard and sums.
// Families are declared once at start-up, before any shard exists; each
// component declares its own and keeps the returned ids.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate {

class Counter {
 public:
  void increment(std::uint64_t by = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t delta) {
    value_.store(value_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  void set(std::int64_t value) { value_.store(value, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& upper_bounds);
  void observe(double value);
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  std::uint64_t bucket(std::size_t index) const { return buckets_[index].load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>& upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // not cumulative; summed at render
  std::atomic<double> sum_{0.0};
};

enum class MetricType { counter, gauge, histogram };

struct MetricId {
  std::size_t index = 0;
};

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<double> upper_bounds;  // histograms only
  // Process-wide values kept outside any shard (the logger's drop count,
  // say) are read through this at scrape time instead.
  std::function<std::int64_t()> read_value;
  // Likewise a histogram with one writer outside the reactors (a store's
  // own thread); it outlives every scrape.
  const Histogram* histogram_source = nullptr;
  // Likewise, one value per value of label_key (read_labelled_values()).
  std::string label_key{};
  std::function<std::vector<std::pair<std::string, std::int64_t>>()> read_labelled_values{};
};

class MetricsShard {
 public:
  explicit MetricsShard(const std::vector<MetricFamily>& families);

  // Finds or creates the series. The first call for a label set takes the
  // shard's lock (a scrape may be reading); callers on a hot path keep the
  // returned reference, which stays valid for the shard's life.
  Counter& counter(MetricId family, const MetricLabels& labels = {});
  Gauge& gauge(MetricId family, const MetricLabels& labels = {});
  Histogram& histogram(MetricId family, const MetricLabels& labels = {});

  // Unique for the process's life (unlike an address, which a later shard
  // may reuse): for callers that remember series per shard.
  std::uint64_t serial() const { return serial_; }

 private:
  friend class MetricsRegistry;
  std::uint64_t serial_ = 0;
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  Series& series(MetricId family, const MetricLabels& labels, MetricType expected);

  const std::vector<MetricFamily>& families_;
  mutable std::mutex series_lock_;
  std::vector<std::map<std::string, Series>> series_;  // per family, keyed by rendered labels
};

class MetricsRegistry {
 public:
  MetricId declare_counter(std::string name, std::string help);
  MetricId declare_gauge(std::string name, std::string help);
  MetricId declare_histogram(std::string name, std::string help, std::vector<double> upper_bounds);
  // A counter whose one unlabelled value is read from read_value at scrape
  // time; it has no series in the shards.
  void declare_counter_function(std::string name, std::string help, std::function<std::int64_t()> read_value);
  // A counter with one label, label_key, its values and theirs read at
  // scrape time ({"status_callback", 12}, ...).
  void declare_counter_function(std::string name, std::string help, std::string label_key,
                                std::function<std::vector<std::pair<std::string, std::int64_t>>()> read_values);
  // Likewise a gauge (a depth, an age) read at scrape time.
  void declare_gauge_function(std::string name, std::string help, std::function<std::int64_t()> read_value);
  // A histogram kept and observed by one thread of its own outside the
  // shards; source must outlive the registry's scrapes.
  void declare_histogram_source(std::string name, std::string help, const Histogram& source);

  // One shard per reactor; no family may be declared after the first shard.
  MetricsShard& add_shard();

  // The whole exposition, every shard summed. Safe from any thread.
  std::string render() const;

 private:
  MetricId declare(MetricFamily family);
  std::vector<MetricFamily> families_;
  std::vector<std::unique_ptr<MetricsShard>> shards_;
};

// Renders labels as Prometheus writes them: key="value",... with \\, \" and \n escaped.
std::string render_metric_labels(const MetricLabels& labels);

// Latency buckets in seconds, from 100 µs to 10 s.
const std::vector<double>& latency_buckets_seconds();

}  // namespace callgate
