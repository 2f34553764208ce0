#include "adapters/decoder_intake.hpp"

#include <algorithm>

#include "ingest/device_protocol.hpp"
#include "splitstream/v1/read.pb.h"

namespace splitstream {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kEstimateWindowMs = 60'000;
constexpr std::size_t kMaxProblems = 5;

void add_problem(IntakeReport& report, std::string problem) {
  if (report.problems.size() < kMaxProblems) report.problems.push_back(std::move(problem));
}

}  // namespace

std::uint64_t decoder_read_seq(std::string_view decoder_id, std::string_view key) {
  std::uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&hash](std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
  };
  mix(decoder_id);
  mix(std::string_view("\n", 1));
  mix(key);
  // 63 bits: the seq is a uint64 in the stream but an int64 in some tools that read it.
  hash &= 0x7fff'ffff'ffff'ffffULL;
  return hash == 0 ? 1 : hash;
}

DecoderIntake::DecoderIntake(const Event& event, const DecoderConfig& config,
                             DurationMs max_clock_skew_ms)
    : event_(event), config_(config), max_clock_skew_ms_(max_clock_skew_ms) {}

TimeMs DecoderIntake::to_utc(const DecoderTime& time) const {
  const std::int64_t offset_ms = std::int64_t{config_.utc_offset_minutes} * 60'000;
  switch (time.base) {
    case DecoderTimeBase::utc:
      return time.ms;
    case DecoderTimeBase::local_civil:
      return time.ms - offset_ms;
    case DecoderTimeBase::local_time_of_day:
      return config_.date_base_days * kDayMs + time.ms - offset_ms;
  }
  return time.ms;
}

std::optional<DurationMs> DecoderIntake::clock_offset_ms() const {
  if (measured_offset_) return measured_offset_;
  if (window_max_ && previous_window_max_) return std::max(*window_max_, *previous_window_max_);
  if (window_max_) return window_max_;
  return previous_window_max_;
}

void DecoderIntake::note_clock_reading(const DecoderTime& reading, TimeMs now) {
  measured_offset_ = to_utc(reading) - now;
}

void DecoderIntake::note_read_lag(DurationMs lag, TimeMs arrival) {
  if (arrival - window_start_ >= kEstimateWindowMs) {
    // A window with no reads forgets the one before it: a long quiet spell starts afresh.
    previous_window_max_ =
        arrival - window_start_ < 2 * kEstimateWindowMs ? window_max_ : std::optional<DurationMs>();
    window_max_.reset();
    window_start_ = arrival;
  }
  window_max_ = window_max_ ? std::max(*window_max_, lag) : lag;
}

DecoderBatchToStore DecoderIntake::prepare(const DecoderBatch& batch, TimeMs arrival,
                                           IntakeReport& report) {
  DecoderBatchToStore out;
  out.cursors = batch.cursors;
  const std::optional<DurationMs> offset = clock_offset_ms();
  const DurationMs correction = config_.correct_clock_offset && offset ? *offset : 0;
  for (const DecoderRawRead& raw : batch.reads) {
    if (raw.chip.empty()) {
      ++report.malformed;
      add_problem(report, "read " + raw.key + ": no chip");
      continue;
    }
    const DecoderTarget* target = nullptr;
    if (auto it = config_.sources.find(raw.source); it != config_.sources.end()) {
      target = &it->second;
    } else if (config_.fallback) {
      target = &*config_.fallback;
    }
    if (!target) {
      ++report.unknown_sources;
      add_problem(report, "read " + raw.key + ": unknown location \"" + raw.source +
                              "\" (add it to the decoder's sources in decoders.json)");
      continue;
    }
    const TimeMs uncorrected = to_utc(raw.time);
    note_read_lag(uncorrected - arrival, arrival);
    const TimeMs time = uncorrected - correction;
    if (time > arrival + max_clock_skew_ms_) {
      ++report.clock_far_off;
      add_problem(report, "read " + raw.key + ": stamped " +
                              std::to_string((time - arrival) / 1000) +
                              " s ahead of the server's clock (check the decoder's clock and "
                              "zone, or set correct_clock_offset)");
      continue;
    }
    if (!event_.participant_by_chip.count(raw.chip)) ++report.unknown_chips;
    v1::Read& read = out.reads.emplace_back();
    read.set_device_id(config_.id);
    read.set_seq(decoder_read_seq(config_.id, raw.key));
    read.set_timing_point_id(event_.timing_points[target->timing_point].id);
    read.set_chip(raw.chip);
    read.set_time_ms(time);
    read.set_line(to_wire(target->line));
    if (raw.rssi_dbm) read.set_rssi_dbm(*raw.rssi_dbm);
  }
  for (const DecoderGunMarker& marker : batch.markers) {
    StoredGunMarker& stored = out.markers.emplace_back();
    stored.id = decoder_read_seq(config_.id, marker.key);
    stored.source = marker.source;
    stored.label = marker.label;
    stored.time_ms = to_utc(marker.time) - correction;
  }
  return out;
}

}  // namespace splitstream
