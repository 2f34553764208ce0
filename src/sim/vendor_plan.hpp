// What `splitstream-sim --protocol raceresult|ctp01|mylaps|impinj` plays: the replay plan's reads
// regrouped by the event's vendor decoders (decoders.json), each read under the decoder's own
// name for where it happened (box, location or antenna) and stamped in the decoder's clock. No
// I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/decoder_config.hpp"
#include "sim/replay_plan.hpp"

namespace splitstream {

struct VendorRead {
  TimeMs time = 0;  // true UTC time of the read (what the server should end up with)
  std::string chip;
  std::string source;  // the decoder's name for the read's timing point and line
};

struct VendorPlan {
  const DecoderConfig* decoder = nullptr;
  std::vector<VendorRead> reads;  // by time
};

// One plan per decoder of `protocol` that has reads. Each (timing point, line) of the plan's
// devices goes to the first decoder of that protocol with a source of exactly that timing
// point and line (else of that timing point with no line, else its fallback target). Throws
// std::runtime_error naming a timing point and line no decoder of the protocol covers.
std::vector<VendorPlan> make_vendor_plans(const ReplayPlan& plan, const Event& event,
                                          const std::vector<DecoderConfig>& decoders,
                                          DecoderProtocolKind protocol);

// The decoder's local wall clock for a UTC time, as local_civil ms (the civil date-time written
// as if it were UTC) and as ms since the decoder's date base (RACE RESULT's day counter).
std::int64_t decoder_local_civil_ms(const DecoderConfig& decoder, TimeMs utc);
std::int64_t decoder_time_of_day_ms(const DecoderConfig& decoder, TimeMs utc);

}  // namespace splitstream
