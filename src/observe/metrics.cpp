#include "observe/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace splitstream::metrics {
namespace {

// A sample value as Prometheus writes it: integers without a fraction.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char text[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(text, sizeof text, "%.0f", v);
  } else {
    std::snprintf(text, sizeof text, "%.9g", v);
  }
  return text;
}

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& extra_name = "",
                       const std::string& extra_value = "") {
  std::string out;
  auto add = [&](const std::string& name, const std::string& value) {
    out += out.empty() ? "{" : ",";
    out += name + "=\"" + escape_label(value) + "\"";
  };
  for (const auto& label : labels)
    add(label.first, label.second);
  if (!extra_name.empty()) add(extra_name, extra_value);
  if (!out.empty()) out += "}";
  return out;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()))
    throw std::invalid_argument("histogram bounds must ascend");
}

void Histogram::observe(double seconds) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  buckets_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  const double us = std::max(0.0, seconds) * 1e6;
  sum_us_.fetch_add(static_cast<std::uint64_t>(std::llround(us)), std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out.push_back(running);
  }
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

Registry::Series& Registry::series(const std::string& name, const std::string& help, Type type,
                                   const Labels& labels) {
  auto family = std::find_if(families_.begin(), families_.end(),
                             [&](const Family& f) { return f.name == name; });
  if (family == families_.end()) {
    families_.push_back({name, help, type, {}});
    family = families_.end() - 1;
  } else if (family->type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  for (Series& s : family->series)
    if (s.labels == labels) return s;
  family->series.push_back({labels, nullptr, nullptr, nullptr, nullptr});
  return family->series.back();
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  const std::lock_guard lock(mutex_);
  Series& s = series(name, help, Type::counter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  const std::lock_guard lock(mutex_);
  Series& s = series(name, help, Type::gauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds, const Labels& labels) {
  const std::lock_guard lock(mutex_);
  Series& s = series(name, help, Type::histogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(bounds);
  return *s.histogram;
}

void Registry::gauge_fn(const std::string& name, const std::string& help,
                        std::function<double()> read, const Labels& labels) {
  const std::lock_guard lock(mutex_);
  series(name, help, Type::gauge, labels).read = std::move(read);
}

void Registry::counter_fn(const std::string& name, const std::string& help,
                          std::function<double()> read, const Labels& labels) {
  const std::lock_guard lock(mutex_);
  series(name, help, Type::counter, labels).read = std::move(read);
}

std::string Registry::render() const {
  const std::lock_guard lock(mutex_);
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " +
           (f.type == Type::counter ? "counter"
            : f.type == Type::gauge ? "gauge"
                                    : "histogram") +
           "\n";
    for (const Series& s : f.series) {
      if (s.counter) {
        out += f.name + label_text(s.labels) + " " +
               number(static_cast<double>(s.counter->value())) + "\n";
      } else if (s.read) {
        out += f.name + label_text(s.labels) + " " + number(s.read()) + "\n";
      } else if (s.gauge) {
        out += f.name + label_text(s.labels) + " " + number(static_cast<double>(s.gauge->value())) +
               "\n";
      } else if (s.histogram) {
        const std::vector<std::uint64_t> counts = s.histogram->cumulative();
        const std::vector<double>& bounds = s.histogram->bounds();
        for (std::size_t i = 0; i < counts.size(); ++i) {
          out += f.name + "_bucket" +
                 label_text(s.labels, "le", i < bounds.size() ? number(bounds[i]) : "+Inf") + " " +
                 number(static_cast<double>(counts[i])) + "\n";
        }
        out += f.name + "_sum" + label_text(s.labels) + " " + number(s.histogram->sum()) + "\n";
        out += f.name + "_count" + label_text(s.labels) + " " +
               number(static_cast<double>(counts.back())) + "\n";
      }
    }
  }
  return out;
}

Registry& global() {
  static Registry registry;
  return registry;
}

}  // namespace splitstream::metrics
