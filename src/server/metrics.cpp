// SPDX-License-Identifier: Apache-2.0
#include "server/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace vigil::server {

namespace {

bool valid_metric_name(const std::string& name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool valid_label_name(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Prometheus float syntax: shortest round-trip decimal, +Inf, -Inf, NaN.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  }
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, const std::string& s, bool quote) {
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{a="x",b="y"}` or nothing; `extra` is an already formatted last pair (the `le` of buckets).
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  out += '}';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   const char* type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void check_names(const std::string& name, const std::vector<std::string>& label_names,
                 bool histogram) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("metric name \"" + name + "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (const auto& l : label_names) {
    if (!valid_label_name(l)) {
      throw std::invalid_argument("metric " + name + ": label name \"" + l + "\" is not valid");
    }
    if (histogram && l == "le") {
      throw std::invalid_argument("metric " + name + ": histograms may not use the label \"le\"");
    }
  }
}

}  // namespace

void Counter::inc(double amount) {
  if (amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  // Bucket i counts values <= bounds_[i] (and > bounds_[i-1]); the last one is +Inf.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  const auto index = static_cast<std::size_t>(it - bounds_.begin());
  std::lock_guard lock(mu_);
  ++counts_[index];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::lock_guard lock(mu_);
  s.cumulative.reserve(counts_.size());
  std::uint64_t running = 0;
  for (const auto c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

template <class Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(label_values.size()) +
                                " label values for " + std::to_string(label_names_.size()) +
                                " label names");
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(label_values);
  if (it == series_.end()) {
    std::unique_ptr<Metric> metric;
    if constexpr (std::is_same_v<Metric, Histogram>) {
      metric = std::make_unique<Histogram>(buckets_);
    } else {
      metric = std::make_unique<Metric>();
    }
    it = series_.emplace(label_values, std::move(metric)).first;
  }
  return *it->second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CounterFamily& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  check_names(name, label_names, false);
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.kind != MetricKind::counter || it->second.counters->help() != help ||
        it->second.counters->label_names() != label_names) {
      throw std::invalid_argument("metric " + name + " is already registered differently");
    }
    return *it->second.counters;
  }
  Entry e{MetricKind::counter, std::make_unique<CounterFamily>(name, help, std::move(label_names)),
          nullptr, nullptr};
  return *families_.emplace(name, std::move(e)).first->second.counters;
}

GaugeFamily& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  check_names(name, label_names, false);
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.kind != MetricKind::gauge || it->second.gauges->help() != help ||
        it->second.gauges->label_names() != label_names) {
      throw std::invalid_argument("metric " + name + " is already registered differently");
    }
    return *it->second.gauges;
  }
  Entry e{MetricKind::gauge, nullptr,
          std::make_unique<GaugeFamily>(name, help, std::move(label_names)), nullptr};
  return *families_.emplace(name, std::move(e)).first->second.gauges;
}

HistogramFamily& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                            std::vector<double> buckets,
                                            std::vector<std::string> label_names) {
  check_names(name, label_names, true);
  if (buckets.empty()) throw std::invalid_argument("histogram " + name + ": no buckets");
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) {
      throw std::invalid_argument("histogram " + name +
                                  ": buckets must be finite and strictly increasing");
    }
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.kind != MetricKind::histogram || it->second.histograms->help() != help ||
        it->second.histograms->label_names() != label_names ||
        it->second.histograms->buckets() != buckets) {
      throw std::invalid_argument("metric " + name + " is already registered differently");
    }
    return *it->second.histograms;
  }
  Entry e{MetricKind::histogram, nullptr, nullptr,
          std::make_unique<HistogramFamily>(name, help, std::move(label_names),
                                            std::move(buckets))};
  return *families_.emplace(name, std::move(e)).first->second.histograms;
}

std::vector<double> MetricsRegistry::latency_buckets_s() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

std::string MetricsRegistry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, entry] : families_) {
    switch (entry.kind) {
      case MetricKind::counter:
      case MetricKind::gauge: {
        const bool is_counter = entry.kind == MetricKind::counter;
        const auto emit = [&](const auto& family) {
          append_header(out, name, family.help(), is_counter ? "counter" : "gauge");
          family.for_each([&](const std::vector<std::string>& values, const auto& metric) {
            out += name;
            append_labels(out, family.label_names(), values);
            out += ' ';
            append_number(out, metric.value());
            out += '\n';
          });
        };
        if (is_counter) {
          emit(*entry.counters);
        } else {
          emit(*entry.gauges);
        }
        break;
      }
      case MetricKind::histogram: {
        const auto& family = *entry.histograms;
        append_header(out, name, family.help(), "histogram");
        family.for_each([&](const std::vector<std::string>& values, const Histogram& h) {
          const auto snap = h.snapshot();
          for (std::size_t i = 0; i <= snap.upper_bounds.size(); ++i) {
            std::string le = "le=\"";
            if (i < snap.upper_bounds.size()) {
              append_number(le, snap.upper_bounds[i]);
            } else {
              le += "+Inf";
            }
            le += '"';
            out += name;
            out += "_bucket";
            append_labels(out, family.label_names(), values, le);
            out += ' ';
            append_uint(out, snap.cumulative[i]);
            out += '\n';
          }
          out += name;
          out += "_sum";
          append_labels(out, family.label_names(), values);
          out += ' ';
          append_number(out, snap.sum);
          out += '\n';
          out += name;
          out += "_count";
          append_labels(out, family.label_names(), values);
          out += ' ';
          append_uint(out, snap.count);
          out += '\n';
        });
        break;
      }
    }
  }
  return out;
}

}  // namespace vigil::server
