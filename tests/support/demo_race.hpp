// The Pyongyang demo race for integration tests: the event, its 19,900 reads grouped by
// device, tokens for every device, and a device client that streams a device's reads.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model/event_loader.hpp"
#include "results/reads_file.hpp"
#include "support/device_client.hpp"

namespace splitstream::testing {

class DemoRace {
 public:
  static constexpr std::size_t kBatch = 250;

  static const DemoRace& get() {
    static const DemoRace race;
    return race;
  }

  const Event& event() const { return loaded_.event; }
  const std::map<std::string, std::vector<FileRead>>& by_device() const { return by_device_; }
  std::size_t total_reads() const {
    std::size_t n = 0;
    for (const auto& [device, reads] : by_device_)
      n += reads.size();
    return n;
  }

  // Writes "device tok-device" for every device of the event.
  void write_tokens(const std::filesystem::path& file) const {
    std::ofstream out(file);
    for (const Device& d : event().devices)
      out << d.id << " tok-" << d.id << "\n";
  }

  // Reads [from, to) of a device as one batch, seq = position + 1.
  v1::DeviceMessage batch(const std::string& device, std::size_t from, std::size_t to) const {
    const std::vector<FileRead>& reads = by_device_.at(device);
    v1::DeviceMessage m;
    for (std::size_t i = from; i < to; ++i) {
      v1::Read* r = m.mutable_batch()->add_reads();
      r->set_seq(i + 1);
      r->set_chip(reads[i].chip);
      r->set_timing_point_id(event().timing_points[reads[i].timing_point].id);
      r->set_time_ms(reads[i].time);
    }
    return m;
  }

  // Streams a device's reads from what the server has acked up to `until` reads, each batch
  // acked before the next. Returns the final acked seq (0 on any failure).
  std::uint64_t feed(int port, const std::string& device, std::size_t until) const {
    until = std::min(until, by_device_.at(device).size());
    DeviceClient client(port);
    client.hello(device, "tok-" + device);
    auto welcome = client.receive_reply();
    if (!welcome || !welcome->has_welcome()) return 0;
    std::uint64_t acked = welcome->welcome().acked_seq();
    while (acked < until) {
      const std::size_t to = std::min<std::size_t>(acked + kBatch, until);
      client.send(batch(device, acked, to));
      auto ack = client.receive_reply();
      if (!ack || !ack->has_ack()) return 0;
      acked = ack->ack().acked_seq();
    }
    return acked;
  }

  // Every device's reads up to `fraction` of its list, one device after another. False if a
  // device was not acked to the end.
  bool feed_all(int port, double fraction = 1.0) const {
    for (const auto& [device, reads] : by_device_) {
      const auto until = static_cast<std::size_t>(static_cast<double>(reads.size()) * fraction);
      if (feed(port, device, until) != until) return false;
    }
    return true;
  }

 private:
  DemoRace() : loaded_(load_event_dir(SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025")) {
    std::ifstream file(SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025/reads.csv");
    std::stringstream text;
    text << file.rdbuf();
    ReadsFile reads = parse_reads_csv(text.str(), loaded_.event);
    for (FileRead& r : reads.reads)
      by_device_[r.device].push_back(std::move(r));
  }

  LoadedEvent loaded_;
  std::map<std::string, std::vector<FileRead>> by_device_;
};

}  // namespace splitstream::testing
