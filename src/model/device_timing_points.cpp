#include "model/device_timing_points.hpp"

#include <algorithm>

namespace splitstream {

std::vector<DeviceTimingPoints> device_timing_points(const Event& event,
                                                     const std::vector<DecoderConfig>& decoders) {
  std::vector<DeviceTimingPoints> out;
  out.reserve(event.devices.size() + decoders.size());
  for (const Device& d : event.devices) {
    DeviceTimingPoints entry;
    entry.id = d.id;
    if (d.timing_point != kNoIndex) entry.timing_points.push_back(d.timing_point);
    out.push_back(std::move(entry));
  }
  for (const DecoderConfig& c : decoders) {
    DeviceTimingPoints entry;
    entry.id = c.id;
    entry.decoder = true;
    for (const auto& [name, target] : c.sources) {
      if (target.timing_point != kNoIndex) entry.timing_points.push_back(target.timing_point);
    }
    if (c.fallback && c.fallback->timing_point != kNoIndex)
      entry.timing_points.push_back(c.fallback->timing_point);
    std::sort(entry.timing_points.begin(), entry.timing_points.end());
    entry.timing_points.erase(std::unique(entry.timing_points.begin(), entry.timing_points.end()),
                              entry.timing_points.end());
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace splitstream
