// The MYLAPS Timing & Scoring exporter protocol (TCP/IP V1 and V2) as a state machine with no
// I/O. The exporter connects to us (default port 3097) and speaks first; /work/shared/decoders.md
// "MYLAPS" has the facts. Frames are `SourceName@Function@field@...@$`, fields split on `@`;
// real traffic puts CR, LF and NUL bytes between frames.
//
//   > Finish@Pong@$                      < Splitstream@AckPong@Version2.1@$  (V1: AckPong@$)
//                                        < Splitstream@GetLocations@$
//   > Toolkit@GetLocations@ln=Start@ln=Finish@$
//   > 10KM@Passing@t=..|c=..|d=..@...@1016@$   (V2, up to 100 records, message number last)
//   > 5Km@Store@<39-char record>@...@7@$       (V1)
//   > Finish@Marker@t=..|mt=..|n=..@4@$        (or positional: `date time|type|name`)
//                                        < Splitstream@AckPassing@1016@$ (AckStore, AckMarker)
//   Ping <-> AckPing, either side.
//
// The exporter resends every unacknowledged message every 20 s, re-batched under new message
// numbers (which restart at 1 on every connection) and in any order. So a record's identity
// (DecoderRawRead::key) comes from its content, and a message is acknowledged only once every
// record it carries is durable: its own batch persisted, or, for a resend whose records were
// already pending, the batch that held them.
//
// Persistence (decoder_protocol.hpp): one batch in flight; messages arriving meanwhile queue, up
// to max_queued_messages, and all go out together in the next batch. A message arriving with the
// queue full is dropped unacknowledged (the exporter resends it); wants_bytes() is false then.
//
// Choices where the brief is silent:
//   * A V1 record with a wrong checksum, or any record that does not parse, is reported and not
//     stored; its message is still acknowledged once the rest is durable (option
//     ack_messages_with_bad_records), because the exporter resends identical bytes: waiting
//     would never end.
//   * A message whose number does not parse cannot be acknowledged; its good records are stored.
//   * A message with no records at all is acknowledged at once.
//   * `Passing` and `Store` are both accepted whatever version our AckPong chose (a malformed
//     AckPong turned an exporter to V1 in the field).
//   * Keys: "v2|<location>|c=..|d=..|t=..|ut=..|utc=..|dv=..|re=..|an=.." for V2 records,
//     "v1|<location>|c=..|d=..|t=..|dv=..|re=..|sq=.." for V1 (sq: the record's hex sequence),
//     "marker|<location>|..." for markers. The same passing sent as V1 and as V2 gets two keys:
//     changing the version mid-race can store resent reads twice (the engine sees a re-read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "adapters/decoder_protocol.hpp"
#include "adapters/line_splitter.hpp"
#include "core/time.hpp"

namespace splitstream {

enum class MylapsVersion : std::uint8_t {
  v1,  // AckPong@$: the exporter sends `Store` messages of fixed-width records
  v2,  // AckPong@Version2.1@$: `Passing` messages of k=v records
};

struct MylapsOptions {
  // Our SourceName, the first field of every frame we send.
  std::string source_name = "Splitstream";
  // The exporter takes its protocol version from our AckPong.
  MylapsVersion version = MylapsVersion::v2;
  // Ask for the location names after the first AckPong (reported in notices.locations).
  bool get_locations_on_connect = true;
  // We send Ping when nothing has arrived for this long (and no Ping of ours for as long). The
  // exporter's own interval is unverified; its AckPing keeps the idle timeout from firing.
  DurationMs ping_interval_ms = 15'000;
  // Nothing received for this long closes the connection (the exporter reconnects). Paused while
  // a batch waits on the caller.
  DurationMs idle_timeout_ms = 60'000;
  // A frame longer than this is dropped (up to its `$`) and reported. 100 V2 records are ~10 KB.
  std::size_t max_frame_bytes = 64 * 1024;
  // Messages with records to store that may wait behind the batch in flight. The session stops
  // reading while the queue is full, but one read (16 KiB) may hold a few hundred small
  // messages: the bound leaves room for them, so a message is dropped (and resent 20 s later)
  // only by a peer that ignores flow control.
  std::size_t max_queued_messages = 512;
  // Content keys remembered as stored on this connection, so that resends are acknowledged
  // without storing them again. The oldest are forgotten past this; a forgotten record that comes
  // back is stored again, which the store's dedupe makes harmless.
  std::size_t max_remembered_keys = 200'000;
  // Whether a message holding records that can never be stored (bad checksum, unparseable) is
  // acknowledged once its good records are durable. True: otherwise the exporter resends it
  // every 20 s forever (identical bytes fail identically).
  bool ack_messages_with_bad_records = true;
  // The V2 record key carrying a signal strength in dBm, if the exporter is set to send one.
  // Unverified: no source names it; empty means no rssi is read.
  std::string rssi_key;
};

// Counters for logs and the timing crew.
struct MylapsStats {
  std::uint64_t messages = 0;           // Passing/Store/Marker messages parsed
  std::uint64_t records = 0;            // records parsed (reads and markers), resends included
  std::uint64_t records_resent = 0;     // records already stored or pending when they arrived
  std::uint64_t bad_records = 0;        // records that did not parse or failed their checksum
  std::uint64_t acks_sent = 0;          // AckPassing/AckStore/AckMarker
  std::uint64_t dropped_messages = 0;   // dropped unacknowledged: queue full
  std::uint64_t malformed_notices = 0;  // entries put in notices.malformed
};

class MylapsProtocol {
 public:
  // One per connection (message numbers restart with it). `now` starts the idle clock.
  MylapsProtocol(MylapsOptions options, TimeMs now);

  // Bytes from the socket, any chunking.
  DecoderOutput on_bytes(std::string_view bytes, TimeMs now);
  // The batch of the last `persist` is durable: acknowledges its messages and starts the next.
  DecoderOutput on_persisted(TimeMs now);
  // Storing failed: closes without acknowledging; the exporter resends after reconnecting.
  DecoderOutput on_store_error(std::string_view detail, TimeMs now);
  // About once a second: Ping when quiet, close when idle past the timeout.
  DecoderOutput on_tick(TimeMs now);

  // False while the queue is full (pause reading the socket) or once closed.
  bool wants_bytes() const;
  bool closed() const { return closed_; }
  bool batch_in_flight() const { return in_flight_.has_value(); }
  std::size_t queued_messages() const { return queue_.size(); }
  // Whether the exporter's Pong was answered (the version is then in force).
  bool handshake_done() const { return ack_pong_sent_; }
  const MylapsStats& stats() const { return stats_; }
  const MylapsOptions& options() const { return options_; }

 private:
  // One Passing/Store/Marker message: what it adds to a batch and the ack it is owed.
  struct PendingMessage {
    std::string ack;  // the framed ack, empty when the message cannot be acknowledged
    std::vector<DecoderRawRead> reads;
    std::vector<DecoderGunMarker> markers;
  };
  struct InFlight {
    std::vector<std::string> acks;
    std::vector<std::string> keys;
  };

  void handle_frame(std::string_view frame, TimeMs now, DecoderOutput& out);
  void handle_records_message(std::string_view source, std::string_view function,
                              const std::vector<std::string_view>& fields, DecoderOutput& out);
  // Routes a parsed message: ack now (nothing new to store), queue it, or drop it (queue full).
  void accept_message(PendingMessage message, bool waits_on_pending, DecoderOutput& out);
  // Starts a batch of everything queued, acknowledging at once when it has nothing to store.
  void release_queue(DecoderOutput& out);
  void send(std::string framed, DecoderOutput& out);
  void send_ack(std::string ack, DecoderOutput& out);
  std::string make_frame(std::string_view function, std::string_view field = {}) const;
  void malformed(std::string text, DecoderOutput& out);
  void remember_durable(std::string key);
  bool known(const std::string& key) const;
  void close(std::string reason, DecoderOutput& out);

  MylapsOptions options_;
  LineSplitter splitter_;
  bool closed_ = false;
  bool ack_pong_sent_ = false;
  bool locations_asked_ = false;
  std::optional<InFlight> in_flight_;
  std::deque<PendingMessage> queue_;
  std::unordered_set<std::string> durable_keys_;
  std::deque<std::string> durable_order_;         // oldest first, for forgetting
  std::unordered_set<std::string> pending_keys_;  // in flight or queued
  TimeMs last_received_;
  TimeMs last_ping_sent_;
  MylapsStats stats_;
};

// Parsing helpers, exposed for tests and the fake exporter.
//
// The V1 record's checksum: the sum of its first 37 bytes modulo 256, as two hex digits.
std::string mylaps_v1_checksum(std::string_view first37);
// "HH:MM:SS[.fff]" -> ms since midnight (fraction truncated to ms); nullopt when malformed.
std::optional<std::int64_t> parse_mylaps_time_of_day(std::string_view text);

}  // namespace splitstream
