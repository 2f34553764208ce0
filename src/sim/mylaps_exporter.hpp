// A fake MYLAPS Timing & Scoring exporter with no I/O, for the simulator and the tests. It
// behaves like the real one as /work/shared/decoders.md describes it:
//   * on every connection it says Pong and waits for our AckPong, whose second field picks the
//     protocol (`Version2.1` -> V2 `Passing`, anything else, a malformed AckPong included -> V1
//     `Store`);
//   * message numbers restart at 1 on every connection and are shared by passings and markers;
//   * every frame is preceded by CR LF NUL (as in the production log), unless turned off;
//   * a record stays unacknowledged until an ack names a message that carried it; unacknowledged
//     records are resent every 20 s (of the injected clock), re-batched under new message numbers
//     and in shuffled order; a "resend storm" resends all of them on every tick.
//
// The caller moves bytes: connect() and each call's returned string go to the server, the
// server's bytes go to on_bytes(); on_tick() sends what is due.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace splitstream {

struct FakeMylapsPassing {
  std::string location = "Finish";  // the message's SourceName
  std::string chip = "0000041";     // V1 records hold 7 characters: padded with '0' on the left
  TimeMs local_time = 0;  // wall-clock date and time written as if UTC (decoders.md: local)
  int device = 4;
  int reader = 0;
  std::string antenna = "00001111";
  int lap = 1;
  int hits = 5;
};

struct FakeMylapsMarker {
  std::string location = "Finish";
  TimeMs local_time = 0;
  std::string type = "Gunshot";
  std::string name = "Gunshot 1";
  // Positional `2025-04-13 05:57:56.027|ext-gun|Extern gunshot` as in real traffic, or the
  // documented `t=..|mt=..|n=..`.
  bool positional = false;
};

struct FakeMylapsExporterOptions {
  std::string pong_source = "Finish";    // SourceName of Pong
  std::string toolkit_name = "Toolkit";  // SourceName of replies (GetLocations, AckPing)
  std::vector<std::string> locations = {"Start", "Finish"};
  DurationMs resend_interval_ms = 20'000;
  std::size_t max_records_per_message = 100;
  bool prefix_frames = true;  // CR LF NUL before every frame
  bool resend_storm = false;  // resend every unacknowledged record on every tick
  std::uint64_t seed = 1;     // message sizes and resend order
};

class FakeMylapsExporter {
 public:
  enum class Version : std::uint8_t { unknown, v1, v2 };

  FakeMylapsExporter(FakeMylapsExporterOptions options, TimeMs now);

  // A new connection: message numbers restart at 1, everything unacknowledged will be resent
  // once the handshake is done. Returns the bytes to send (Pong).
  std::string connect(TimeMs now);
  // The connection dropped: nothing is sent until connect().
  void disconnect();

  // Records to send at the next tick (after the handshake).
  void add_passing(FakeMylapsPassing passing);
  void add_marker(FakeMylapsMarker marker);

  // Bytes from the server; returns the bytes to send back.
  std::string on_bytes(std::string_view bytes, TimeMs now);
  // New records as messages, and resends of unacknowledged ones that are due.
  std::string on_tick(TimeMs now);

  void set_resend_storm(bool on) { options_.resend_storm = on; }
  Version version() const { return version_; }
  bool connected() const { return connected_; }
  bool all_acknowledged() const { return unacked_.empty() && unsent_.empty(); }
  std::size_t unacknowledged() const { return unacked_.size() + unsent_.size(); }
  std::uint64_t messages_sent() const { return messages_sent_; }
  std::uint64_t resent_records() const { return resent_records_; }
  std::uint64_t acks_received() const { return acks_received_; }
  // Acks naming a message number this connection never sent, or already acknowledged.
  std::uint64_t unknown_acks() const { return unknown_acks_; }
  std::uint32_t pings_answered() const { return pings_answered_; }
  // The V1 record of a passing (39 characters, checksum included), for tests.
  static std::string v1_record(const FakeMylapsPassing& passing, std::uint32_t sequence);
  static std::string v2_record(const FakeMylapsPassing& passing);

 private:
  struct Record {
    bool is_marker = false;
    FakeMylapsPassing passing;
    FakeMylapsMarker marker;
    std::uint32_t sequence = 0;  // the decoder's passing sequence (V1), stable across resends
    TimeMs last_sent = 0;
  };

  std::string send_records(std::vector<std::size_t> ids, TimeMs now);
  std::string frame(std::string_view text) const;
  std::string format(const Record& record) const;
  // "Passing", "Store" or "Marker": the function of a message holding this record.
  std::string function_of(const Record& record) const;

  FakeMylapsExporterOptions options_;
  std::mt19937_64 rng_;
  std::vector<Record> records_;  // by id
  std::vector<std::size_t> unsent_;
  std::set<std::size_t> unacked_;  // sent at least once, not acknowledged
  struct SentMessage {
    std::string function;
    std::vector<std::size_t> ids;
  };
  std::map<std::uint64_t, SentMessage> messages_;  // this connection's, by number
  std::string buffer_;                             // bytes from the server up to the next '$'
  std::uint64_t next_message_ = 1;
  std::uint32_t next_sequence_ = 1;
  Version version_ = Version::unknown;
  bool connected_ = false;
  TimeMs last_resend_ = 0;
  std::uint64_t messages_sent_ = 0;
  std::uint64_t resent_records_ = 0;
  std::uint64_t acks_received_ = 0;
  std::uint64_t unknown_acks_ = 0;
  std::uint32_t pings_answered_ = 0;
};

}  // namespace splitstream
