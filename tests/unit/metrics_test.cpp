// The metrics registry and its Prometheus text, checked against hand-written expositions.
#include "observe/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace splitstream::metrics {
namespace {

TEST(Metrics, CountersAndGaugesWithLabelsRenderInRegistrationOrder) {
  Registry r;
  r.counter("reads_total", "Reads.", {{"result", "accepted"}}).inc(3);
  r.counter("reads_total", "Reads.", {{"result", "rejected"}}).inc();
  r.counter("reads_total", "Reads.", {{"result", "accepted"}}).inc(2);  // the same series
  Gauge& g = r.gauge("devices_connected", "Devices online.");
  g.add(2);
  g.add(-1);
  r.gauge_fn("queue_bytes", "Bytes queued.", [] { return 1536.0; }, {{"node", "a\"b"}});
  EXPECT_EQ(r.render(),
            "# HELP reads_total Reads.\n"
            "# TYPE reads_total counter\n"
            "reads_total{result=\"accepted\"} 5\n"
            "reads_total{result=\"rejected\"} 1\n"
            "# HELP devices_connected Devices online.\n"
            "# TYPE devices_connected gauge\n"
            "devices_connected 1\n"
            "# HELP queue_bytes Bytes queued.\n"
            "# TYPE queue_bytes gauge\n"
            "queue_bytes{node=\"a\\\"b\"} 1536\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  Histogram& h = r.histogram("ack_seconds", "Ack latency.", {0.01, 0.1, 1});
  for (double s : {0.005, 0.01, 0.05, 0.5, 3.0})
    h.observe(s);
  // <= 0.01: 0.005 and 0.01; <= 0.1: + 0.05; <= 1: + 0.5; +Inf: + 3. Sum 3.565.
  EXPECT_EQ(r.render(),
            "# HELP ack_seconds Ack latency.\n"
            "# TYPE ack_seconds histogram\n"
            "ack_seconds_bucket{le=\"0.01\"} 2\n"
            "ack_seconds_bucket{le=\"0.1\"} 3\n"
            "ack_seconds_bucket{le=\"1\"} 4\n"
            "ack_seconds_bucket{le=\"+Inf\"} 5\n"
            "ack_seconds_sum 3.565\n"
            "ack_seconds_count 5\n");
}

TEST(Metrics, ReadFunctionsRenderWhatTheyReturn) {
  Registry r;
  r.counter_fn("cpu_seconds_total", "CPU.", [] { return 1.25; });
  r.gauge_fn("up", "Up.", [] { return 1.0; }, {{"connection", "ingest"}});
  r.gauge_fn("up", "Up.", [] { return 0.0; }, {{"connection", "follower"}});
  EXPECT_EQ(r.render(),
            "# HELP cpu_seconds_total CPU.\n"
            "# TYPE cpu_seconds_total counter\n"
            "cpu_seconds_total 1.25\n"
            "# HELP up Up.\n"
            "# TYPE up gauge\n"
            "up{connection=\"ingest\"} 1\n"
            "up{connection=\"follower\"} 0\n");
}

TEST(Metrics, OneNameIsOneType) {
  Registry r;
  r.counter("x", "X.");
  EXPECT_THROW(r.gauge("x", "X."), std::logic_error);
  EXPECT_THROW(Histogram({1, 0.5}), std::invalid_argument);
}

TEST(Metrics, CountsFromManyThreadsAddUp) {
  Registry r;
  Counter& c = r.counter("n_total", "N.");
  Histogram& h = r.histogram("h_seconds", "H.", latency_bounds());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        c.inc();
        h.observe(0.002);
      }
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(c.value(), 40'000u);
  EXPECT_EQ(h.count(), 40'000u);
  EXPECT_NEAR(h.sum(), 80.0, 1e-6);
}

}  // namespace
}  // namespace splitstream::metrics
