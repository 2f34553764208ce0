// Process-wide metrics in the Prometheus text format (GET /metrics): counters, gauges and
// histograms with lock-free updates, so sessions on any thread can count on their hot paths.
// Registration (once, at start-up or first use) takes a lock; reading renders every family.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace splitstream::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Cumulative buckets by upper bound (seconds); the sum is kept in microseconds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= bounds()[i] (cumulative), then the count of all.
  std::vector<std::uint64_t> cumulative() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // not cumulative; last: +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

// Latency buckets from 1 ms to 60 s.
std::vector<double> latency_bounds();

class Registry {
 public:
  // The same name and labels give the same metric. A name is one type with one help text.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const Labels& labels = {});
  // A gauge read when rendered (for values kept elsewhere, e.g. an atomic of a component).
  // Replaces an earlier read function of the same name and labels.
  void gauge_fn(const std::string& name, const std::string& help, std::function<double()> read,
                const Labels& labels = {});
  // The same for a counter kept elsewhere (e.g. CPU time from the kernel).
  void counter_fn(const std::string& name, const std::string& help, std::function<double()> read,
                  const Labels& labels = {});

  // Every family in registration order, in the text exposition format 0.0.4.
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::deque<Series> series;
  };
  Series& series(const std::string& name, const std::string& help, Type type, const Labels& labels);

  mutable std::mutex mutex_;
  std::deque<Family> families_;
};

// The process's registry (what GET /metrics shows).
Registry& global();

}  // namespace splitstream::metrics
