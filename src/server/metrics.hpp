// SPDX-License-Identifier: Apache-2.0
// A small thread-safe Prometheus registry: counters, gauges and fixed-bucket histograms, each in
// families with labels, rendered in the text exposition format 0.0.4.
//
// Contracts
// - Families are registered at start-up: registering a name twice returns the existing family when
//   the kind, help, label names (and buckets) agree, and throws std::invalid_argument otherwise, or
//   when a name is not a valid metric or label name (configuration errors).
// - Every method of every class here may be called from any thread at any time.
// - References returned by `family()`, `with()` and `get()` stay valid as long as the registry
//   lives: hot paths look a series up once and keep the reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vigil::server {

// A monotonically increasing value (events, bytes, errors).
class Counter {
 public:
  // REQUIRES: amount >= 0 (a negative amount is ignored).
  void inc(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down (open connections, queue length).
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1.0) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets (upper bounds, increasing); +Inf is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then one for +Inf (== count)
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;  // consistent: taken under the histogram's lock

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // GUARDED_BY(mu_); per bucket, not cumulative; last = +Inf
  double sum_ = 0.0;                   // GUARDED_BY(mu_)
  std::uint64_t count_ = 0;            // GUARDED_BY(mu_)
};

enum class MetricKind { counter, gauge, histogram };

// All series of one metric name, one per combination of label values.
template <class Metric>
class Family {
 public:
  // The series for these label values (in the order of the family's label names), created on
  // first use. Throws std::invalid_argument when the number of values differs from the names.
  Metric& with(const std::vector<std::string>& label_values);
  // The single series of a family without labels.
  Metric& get() { return with({}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // For rendering: calls fn(label_values, metric) for every series, sorted by label values,
  // under the family's lock.
  template <class Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, metric] : series_) fn(values, *metric);
  }

  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {});
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::vector<double>& buckets() const { return buckets_; }

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> buckets_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;  // GUARDED_BY(mu_)
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Names follow Prometheus conventions: counters end in `_total`, units are in the name
  // (`_seconds`, `_bytes`). Label names must not start with `__`; histograms may not use `le`.
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  // REQUIRES: buckets non-empty, finite and strictly increasing.
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<double> buckets,
                             std::vector<std::string> label_names = {});

  // Buckets for latencies in seconds, 0.5 ms .. 10 s.
  static std::vector<double> latency_buckets_s();

  // The text exposition format 0.0.4 (content type `text/plain; version=0.0.4; charset=utf-8`),
  // families sorted by name, series by label values.
  std::string render() const;

  static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Entry {
    MetricKind kind;
    std::unique_ptr<CounterFamily> counters;
    std::unique_ptr<GaugeFamily> gauges;
    std::unique_ptr<HistogramFamily> histograms;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> families_;  // GUARDED_BY(mu_); entries are never removed
};

}  // namespace vigil::server
