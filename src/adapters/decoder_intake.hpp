// A vendor decoder's reads, from its terms into the event's (no I/O): location, box or antenna
// -> timing point and line (decoders.json), its local clock -> UTC (zone, date base, measured or
// estimated offset), its identity -> the read's seq in the stream. Reads from an unknown
// location or stamped far ahead of our clock are refused and counted; unknown chips are stored
// (the engine keeps them for a later assignment) and counted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/decoder_protocol.hpp"
#include "model/decoder_config.hpp"
#include "model/event.hpp"
#include "store/decoder_read_log.hpp"

namespace splitstream {

// What one batch's intake refused or noticed, for the crew's counters and the log.
struct IntakeReport {
  std::uint64_t unknown_sources = 0;
  std::uint64_t unknown_chips = 0;
  std::uint64_t clock_far_off = 0;
  std::uint64_t malformed = 0;        // reads without a chip
  std::vector<std::string> problems;  // the first few, each naming the read and what is wrong
};

// The stream seq of a read with this identity at this decoder: 63 bits of FNV-1a, never 0.
std::uint64_t decoder_read_seq(std::string_view decoder_id, std::string_view key);

class DecoderIntake {
 public:
  // `event` and `config` must outlive the intake.
  DecoderIntake(const Event& event, const DecoderConfig& config, DurationMs max_clock_skew_ms);

  DecoderBatchToStore prepare(const DecoderBatch& batch, TimeMs arrival, IntakeReport& report);

  // The decoder's clock as it answered at `now` (RACE RESULT GETTIME): its offset is measured.
  void note_clock_reading(const DecoderTime& reading, TimeMs now);

  // The decoder's time in UTC, before any offset correction.
  TimeMs to_utc(const DecoderTime& time) const;
  // Decoder clock minus ours: measured when the protocol can ask, else estimated from the
  // freshest reads (read time minus arrival, the largest over the last two minutes: it includes
  // the network and decoder delay, so it is a bound, not a measurement). Nullopt before either.
  std::optional<DurationMs> clock_offset_ms() const;
  bool clock_offset_measured() const { return measured_offset_.has_value(); }

 private:
  void note_read_lag(DurationMs lag, TimeMs arrival);

  const Event& event_;
  const DecoderConfig& config_;
  DurationMs max_clock_skew_ms_;
  std::optional<DurationMs> measured_offset_;
  // Estimate: the largest lag of the current minute and of the minute before it.
  std::int64_t window_start_ = 0;
  std::optional<DurationMs> window_max_;
  std::optional<DurationMs> previous_window_max_;
};

}  // namespace splitstream
