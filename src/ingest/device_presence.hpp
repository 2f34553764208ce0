// Device presence across nodes (docs/redis.md, "Presence"): what the node holding a device or a
// vendor decoder knows of it, written to Redis every 2 s so that GET /api/v1/devices on any node
// shows it. Here: the per-device statistics a node keeps of the devices connected to it (cheap
// enough for the ingest strand: a few counter bumps per stored batch, no allocation, no log), the
// record both devices and decoders publish, and the pure JSON on both sides of Redis.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/minute_counts.hpp"
#include "core/time.hpp"
#include "model/event.hpp"
#include "model/seq_gap.hpp"

namespace splitstream {

// What a node writes of one device or decoder it holds.
struct PresenceRecord {
  // "connected"; decoders also "dialing" (RACE RESULT), "listening" (CTP01, MYLAPS), "waiting"
  // (Impinj, before its first post); "offline": it was held here and is no longer.
  std::string state;
  TimeMs since_ms = kNoTime;      // when it entered `state`
  TimeMs last_read_ms = kNoTime;  // server clock when the newest read from it arrived here
  std::uint64_t reads_total = 0;  // reads it sent that this node stored (new to the store)
  MinuteCounts::Series reads_per_minute{};
  std::optional<DurationMs> clock_offset_ms;  // its clock minus the server's
  std::uint64_t gaps = 0;
  std::optional<std::uint64_t> backlog;  // reads it holds not stored yet, when known
  std::uint64_t rejected = 0;            // reads refused (other than malformed)
  std::uint64_t malformed = 0;           // malformed reads, frames or lines
  std::string remote;                    // its address ("" unknown, e.g. over HTTP)
};

// What this node knows of one native device (device protocol over TCP, or POST /api/v1/reads).
// Used on the ingest strand only.
class DevicePresence {
 public:
  // A session got past Welcome, from `remote`; and that session ended.
  void session_opened(std::string_view remote, TimeMs now);
  void session_closed(TimeMs now);
  // A POST /api/v1/reads of this device was stored: the device counts as connected for as long
  // as it keeps posting (a post within the hold time, the device idle timeout).
  void http_post(TimeMs now, DurationMs http_hold_ms);
  // A batch was stored: `appended` reads new to the store; `gaps`: what the ingest script
  // reported missing above the acked sequence.
  void record_stored(std::uint64_t appended, const std::vector<SeqGap>& gaps, TimeMs now);
  void record_refused(std::uint64_t rejected, std::uint64_t malformed);
  // Device clock minus server clock at its last Hello or Heartbeat carrying a time.
  void record_clock(std::optional<DurationMs> offset_ms) { clock_offset_ms_ = offset_ms; }

  // "connected" while a session is open or a post came within `http_hold_ms`; "offline" once it
  // was connected here and is no longer; "" when it never was on this node.
  std::string_view state(TimeMs now, DurationMs http_hold_ms) const;
  PresenceRecord record(TimeMs now, DurationMs http_hold_ms) const;

 private:
  bool posting(TimeMs now, DurationMs http_hold_ms) const {
    return last_post_ms_ != kNoTime && now - last_post_ms_ <= http_hold_ms;
  }

  int sessions_ = 0;
  TimeMs session_since_ms_ = kNoTime;  // the open sessions' start (the first of them)
  TimeMs session_end_ms_ = kNoTime;    // when the last session ended
  TimeMs first_post_ms_ = kNoTime;     // the first post of the current run of posts
  TimeMs last_post_ms_ = kNoTime;
  std::string remote_;
  TimeMs last_read_ms_ = kNoTime;
  std::uint64_t reads_total_ = 0;
  MinuteCounts reads_per_minute_;
  std::optional<DurationMs> clock_offset_ms_;
  std::uint64_t gaps_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t malformed_ = 0;
};

// The Redis value of a presence key: the record, the node's name and `now` (when it was taken,
// so a reader can move the per-minute series on to its own current minute).
std::string presence_value_json(const PresenceRecord& record, std::string_view node, TimeMs now);

// The "presence" object of GET /api/v1/devices from a presence key's value, seen at `now`: null
// when there is no value (the key expired: no node holds the device) or it does not parse; else
// node, state, since_ms, last_read_ms, silent_ms (now - last read, or - since_ms without one;
// null when offline), reads_total, reads_per_minute (moved on to the current minute),
// clock_offset_ms, clock_warning (|offset| > clock_warn_ms), gaps, backlog, rejected, malformed,
// remote.
boost::json::value presence_view(const std::optional<std::string>& value, TimeMs now,
                                 DurationMs clock_warn_ms);

// The console's alert for one device (contract section 2): its presence (presence_view) is null
// or offline, or silent for longer than `silent_after_ms`, while one of its `timing_points`
// (device_timing_points()) still expects runners (`expected`, by timing point index, from
// runners_expected_at()).
bool silent_alert(const boost::json::value& presence,
                  const std::vector<TimingPointIndex>& timing_points,
                  const std::vector<std::size_t>& expected, DurationMs silent_after_ms);

}  // namespace splitstream
