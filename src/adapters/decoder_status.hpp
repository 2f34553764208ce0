// What the timing crew sees of each vendor decoder on this node: connected or dialing, last read,
// reads per minute (the last minute, and per minute over the last 30), clock offset, refetched
// gaps, resends absorbed, malformed lines, unknown locations and chips, the decoder's own status.
// GET /api/v1/devices shows it; the counters are also metrics
// (splitstream_decoder_*{decoder,protocol}). Used on the ingest strand only (the metrics are atomic
// and read anywhere).
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/decoder_intake.hpp"
#include "adapters/decoder_protocol.hpp"
#include "core/minute_counts.hpp"
#include "core/time.hpp"
#include "ingest/device_presence.hpp"
#include "model/decoder_config.hpp"
#include "observe/metrics.hpp"

namespace splitstream {

class DecoderStatus {
 public:
  // `now`: when its first state ("dialing", "listening" or "waiting") began.
  DecoderStatus(const DecoderConfig& config, TimeMs now);

  const DecoderConfig& config() const { return config_; }

  // "dialing" (RACE RESULT, until connected), "listening" (CTP01, MYLAPS: no one connected),
  // "waiting" (Impinj: no post yet), "connected".
  void connection_opened(const std::string& peer, TimeMs now);
  void connection_closed(const std::string& reason, TimeMs now);
  void set_dialing(const std::string& last_error, TimeMs now);
  void note_post(TimeMs now);  // Impinj: an HTTP post is its connection

  void record_notices(const DecoderNotices& notices, TimeMs now);
  void record_intake(const IntakeReport& report);
  void record_stored(std::uint64_t appended, std::uint64_t duplicates, std::uint64_t new_markers,
                     TimeMs last_read_time, TimeMs now);
  void record_clock(std::optional<DurationMs> offset_ms, bool measured);
  // Passings the decoder holds that are not stored yet (RACE RESULT: its current file's count
  // above our cursor); nullopt when unknown.
  void record_backlog(std::optional<std::uint64_t> backlog) { backlog_ = backlog; }

  // True when a malformed line at `now` should be logged: the first of a burst (none in the
  // last 10 s). `suppressed` says how many went unlogged since the last logged one.
  bool log_malformed_now(TimeMs now, std::uint64_t& suppressed);

  std::uint64_t reads_last_minute(TimeMs now) const;
  boost::json::object to_json(TimeMs now) const;
  // What this node publishes of the decoder (device presence, docs/redis.md): gaps are the gaps
  // it was asked to send again, rejected the reads refused (unknown location, clock far ahead).
  PresenceRecord presence(TimeMs now) const;

 private:
  struct Metrics {
    metrics::Counter& reads;
    metrics::Counter& duplicates;
    metrics::Counter& malformed;
    metrics::Counter& unknown_locations;
    metrics::Counter& unknown_chips;
    metrics::Counter& clock_far_off;
    metrics::Counter& refetched_gaps;
    metrics::Counter& refetched_reads;
    metrics::Counter& gun_markers;
    metrics::Counter& connections;
    metrics::Gauge& connected;
    metrics::Gauge& clock_offset_ms;
  };
  static Metrics register_metrics(const DecoderConfig& config);
  // Changes the state; `now` starts it unless it is the state already.
  void set_state(const char* state, TimeMs now);

  const DecoderConfig& config_;
  Metrics metrics_;
  std::string state_;
  TimeMs state_since_ = kNoTime;
  std::string peer_;
  std::string last_error_;
  int open_connections_ = 0;
  TimeMs connected_since_ = kNoTime;
  TimeMs last_seen_ = kNoTime;       // any byte, ping or post
  TimeMs last_read_time_ = kNoTime;  // the newest stored read's time
  TimeMs last_read_arrival_ = kNoTime;
  std::optional<DurationMs> clock_offset_ms_;
  bool clock_offset_measured_ = false;
  std::vector<std::string> locations_;
  std::vector<std::pair<std::string, std::string>> decoder_status_;
  // Reads stored per second over the last minute (a ring by second).
  std::array<std::uint32_t, 60> per_second_{};
  std::array<std::int64_t, 60> second_of_slot_{};
  MinuteCounts reads_per_minute_;  // over the last 30 minutes
  std::optional<std::uint64_t> backlog_;
  TimeMs last_malformed_log_ = kNoTime;
  std::uint64_t malformed_unlogged_ = 0;
};

// One decoder on this node: its settings, what the crew sees, and its clock and mapping (kept
// across reconnects: the clock estimate outlives a connection).
struct Decoder {
  Decoder(const Event& event, const DecoderConfig& c, DurationMs max_clock_skew_ms)
      : config(c), status(c, wall_clock_now()), intake(event, c, max_clock_skew_ms) {}
  const DecoderConfig& config;
  DecoderStatus status;
  DecoderIntake intake;
};

// Every decoder of the event, by id. `decoders` must outlive the fleet.
class DecoderFleet {
 public:
  DecoderFleet(const Event& event, const std::vector<DecoderConfig>& decoders,
               DurationMs max_clock_skew_ms);
  Decoder* find(std::string_view id);
  const std::vector<std::unique_ptr<Decoder>>& all() const { return decoders_; }

 private:
  std::vector<std::unique_ptr<Decoder>> decoders_;
};

}  // namespace splitstream
