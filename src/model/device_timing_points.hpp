// Where each device and vendor decoder of an event reads: for the console's alert "silent while
// its timing point still expects runners" (contract section 2, silent_alert()).
#pragma once

#include <string>
#include <vector>

#include "model/decoder_config.hpp"
#include "model/event.hpp"

namespace splitstream {

struct DeviceTimingPoints {
  std::string id;  // the device's or decoder's id (its presence key)
  bool decoder = false;
  // Ascending, distinct: a device's one timing point; a decoder's sources' and its fallback's.
  std::vector<TimingPointIndex> timing_points;
};

// The event's devices (event.json order), then its decoders (decoders.json order).
std::vector<DeviceTimingPoints> device_timing_points(const Event& event,
                                                     const std::vector<DecoderConfig>& decoders);

}  // namespace splitstream
