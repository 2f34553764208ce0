// What every vendor decoder protocol (RACE RESULT, ChronoTrack CTP01, MYLAPS exporter, Impinj)
// hands its caller. Each protocol is a state machine with no I/O (`*_fsm`): the caller feeds it
// the bytes it received and the time, and does what each DecoderOutput says. The reads it yields
// are still in the decoder's terms (its location names, its clock); `adapters/decoder_intake`
// maps them to timing points and UTC, and the caller stores them before it tells the protocol
// they are durable (on_persisted), which is when a vendor acknowledgement goes out.
//
// Persistence contract (the same for every protocol, one batch in flight at a time):
//   out.persist holds reads -> store them (deduplicated by DecoderRawRead::key) -> call
//   on_persisted() (or on_store_error(), which closes the connection so the hardware resends).
//   Until then the protocol queues what arrives and acknowledges nothing it has not stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace splitstream {

// A decoder's time stamp as the protocol carries it. `ms` means, by `base`:
enum class DecoderTimeBase : std::uint8_t {
  utc,               // milliseconds since the Unix epoch, UTC (Impinj, CTP01 unix time)
  local_civil,       // the wall-clock date and time written as if it were UTC (days_from_civil
                     // of the date * 86'400'000 + ms of the day): local time, zone unknown
  local_time_of_day  // ms since local midnight of the configured date base; a day counter
                     // (RACE RESULT's 0000-00-01) adds 86'400'000 per day
};

struct DecoderTime {
  std::int64_t ms = 0;
  DecoderTimeBase base = DecoderTimeBase::local_time_of_day;
};

// One chip read as the hardware reported it.
struct DecoderRawRead {
  // Identity within the decoder, stable across the vendor's resends and our refetches, so that
  // storing it twice is harmless. RACE RESULT: "<file>/<passing number>"; the others: derived
  // from the record's content (never from a message number, which restarts per connection).
  std::string key;
  // The decoder's own name for where the read happened, mapped to a timing point by the
  // decoder's configuration: RACE RESULT box name (or "" when the record has none), CTP01 and
  // MYLAPS location name, Impinj antenna port as decimal text.
  std::string source;
  std::string chip;  // transponder code or tag EPC as sent
  DecoderTime time;
  std::optional<int> rssi_dbm;
};

// A gun time the timing software announced (CTP01 `guntime`, MYLAPS Marker).
struct DecoderGunMarker {
  std::string key;     // identity, as for reads (markers are resent too)
  std::string source;  // location
  std::string label;   // "Gunshot 1", "guntime", ...
  DecoderTime time;
};

// Things the caller shows the timing crew or counts; none needs an answer.
struct DecoderNotices {
  // Lines or frames that did not parse, each with what is wrong (log once per burst, count all).
  std::vector<std::string> malformed;
  // The decoder's location names as it listed them (CTP01 getlocations, MYLAPS GetLocations).
  std::optional<std::vector<std::string>> locations;
  // The decoder's clock minus ours, measured (RACE RESULT GETTIME answered at `now`): the
  // decoder's clock reading, to be converted like a read's time by the intake.
  std::optional<DecoderTime> clock_reading;
  // Decoder status as key/value text for the crew (RACE RESULT GETSTATUS fields, CTP01 hello).
  std::vector<std::pair<std::string, std::string>> status;
  // Gap refetches the protocol started (RACE RESULT ranges), for the crew's counters.
  std::uint64_t refetched_gaps = 0;
  std::uint64_t refetched_reads = 0;
  // Pings and heartbeats seen: the device is alive even when no one runs.
  bool heartbeat = false;
};

struct DecoderBatch {
  std::vector<DecoderRawRead> reads;
  std::vector<DecoderGunMarker> markers;
  // Progress to store in the same atomic step as the reads (RACE RESULT: "cursor:<file>" ->
  // highest passing number below which every passing is stored). Empty for the others.
  std::vector<std::pair<std::string, std::uint64_t>> cursors;
};

struct DecoderOutput {
  std::vector<std::string> send;        // bytes to write, in order, already framed
  std::optional<DecoderBatch> persist;  // store, then on_persisted()
  DecoderNotices notices;
  bool close_after_send = false;  // the session is over once `send` is written
  std::string close_reason;       // why, when close_after_send
};

}  // namespace splitstream
