// The demo race's reads played through its device lines, every line at once on a thread of its
// own, paced to a rate in all, each batch acknowledged before the next: what push_bench and
// fanout_bench feed a server with.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "support/demo_race.hpp"

namespace splitstream::bench {

// Plays up to `per_device` reads of each line (from its start) in batches of `batch` at `rate`
// reads/s in all, to the device port; returns once every line is done. False when a line was
// refused or a batch not acknowledged.
inline bool feed_devices(const splitstream::testing::DemoRace& demo, int device_port, double rate,
                         std::size_t batch,
                         std::size_t per_device = std::numeric_limits<std::size_t>::max()) {
  const auto& by_device = demo.by_device();
  const double per_device_rate = rate / static_cast<double>(by_device.size());
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(batch) / per_device_rate));
  std::atomic<int> failures{0};
  std::vector<std::thread> devices;
  for (const auto& [id, reads] : by_device) {
    devices.emplace_back([&, id = id, n = std::min(reads.size(), per_device)] {
      splitstream::testing::DeviceClient client(device_port);
      client.hello(id, "tok-" + id);
      auto welcome = client.receive_reply();
      if (!welcome || !welcome->has_welcome()) {
        ++failures;
        return;
      }
      auto next = Clock::now();
      for (std::size_t from = 0; from < n; from += batch) {
        std::this_thread::sleep_until(next);
        next += interval;
        client.send(demo.batch(id, from, std::min(from + batch, n)));
        auto ack = client.receive_reply();
        if (!ack || !ack->has_ack()) {
          ++failures;
          return;
        }
      }
    });
  }
  for (std::thread& t : devices)
    t.join();
  return failures.load() == 0;
}

}  // namespace splitstream::bench
