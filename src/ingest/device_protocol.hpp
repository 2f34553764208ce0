// The device session protocol (proto/splitstream/v1/device.proto) as a state machine with no I/O.
// The caller owns the socket, the frame codec, the clock and Redis; it feeds this class decoded
// frames, the time and the results of its Redis calls, and does what each DeviceProtocolOutput
// says. docs/device-protocol.md describes the protocol from the device's side.
//
// Life of a session, seen from the caller:
//
//   DeviceProtocol session(event, tokens, config, now);
//   out = session.on_message(hello, now);        // out.load_acked_seq: look up the device's
//   out = session.on_acked_seq_loaded(seq, now); //   acked seq in Redis, then report it -> Welcome
//   out = session.on_message(batch, now);        // out.persist: run the ingest script with it
//   out = session.on_persisted(acked, gaps, now);// -> Ack (and maybe the next queued batch)
//   out = session.on_tick(now);                  // every second or so: Heartbeat, idle timeout
//
// After each call: write every message of `out.send` in order; if `out.close_after_send`, close
// the connection once they are written and make no more calls. Every Error closes the session.
//
// The persistence contract (one batch in flight at a time):
//   * `PersistRequest::reads` are the accepted reads, with device_id and timing_point_id filled
//     in (and line, when the read did not report one). Store them deduplicated by (device, seq).
//   * `PersistRequest::to_mark_rejected` are the sequences of reads refused by validation. Store
//     a "rejected" marker for each, deduplicated the same way, so that they count as handled:
//     a refused read is never resent, and without the marker its sequence would hold the
//     device's acked seq back forever as a gap.
//   * Then call on_persisted() with the device's new highest contiguous handled sequence and the
//     missing ranges above it (IngestResult::acked_seq and ::gaps), or on_store_error().
//
// Backpressure: while a batch is being persisted, later batches are validated on arrival (so the
// clock-skew check uses the arrival time) and queued, up to `max_queued_batches`. When the queue
// is full, wants_frames() turns false and the caller should stop reading the socket until it is
// true again; TCP flow control then slows the device down. A batch fed anyway is answered with
// Error OVERLOADED. Idle-timeout accounting pauses while the session waits on the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "ingest/device_tokens.hpp"
#include "ingest/frame_codec.hpp"
#include "model/event.hpp"
#include "model/seq_gap.hpp"
#include "splitstream/v1/device.pb.h"
#include "splitstream/v1/read.pb.h"

namespace splitstream {

struct DeviceProtocolConfig {
  // A read stamped further than this ahead of server time is refused (CLOCK_SKEW). Reads from
  // the past are never refused: a backlog may be hours old.
  DurationMs max_clock_skew_ms = 5 * 60 * 1000;
  // The server sends a Heartbeat when it has sent nothing for this long (and advertises it).
  DurationMs heartbeat_interval_ms = 10'000;
  // A device that sends nothing for longer than this is disconnected.
  DurationMs idle_timeout_ms = 30'000;
  // A ReadBatch with more reads than this is a protocol violation.
  std::size_t max_reads_per_batch = 10'000;
  // Batches that may wait behind the one being persisted before wants_frames() turns false.
  std::size_t max_queued_batches = 1;
  // Advertised in Welcome; the frame codec enforces it.
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Suggested reconnect delay after OVERLOADED or a store failure.
  std::uint32_t retry_after_ms = 5'000;
};

// A batch to make durable, then report with on_persisted().
struct PersistRequest {
  std::string device_id;
  std::vector<v1::Read> reads;                  // accepted, fields filled in, batch order
  std::vector<std::uint64_t> to_mark_rejected;  // seqs of refused reads: store as handled
};

// What the caller must do after one call.
struct DeviceProtocolOutput {
  // Frames to write, in order.
  std::vector<v1::ServerMessage> send;
  // Look up the acked seq of device_id() in Redis and call on_acked_seq_loaded().
  bool load_acked_seq = false;
  // Persist this batch and call on_persisted() (or on_store_error()).
  std::optional<PersistRequest> persist;
  // Close the connection once `send` is written; the session is over.
  bool close_after_send = false;
};

// Counters for logs and the timing crew's device status.
struct DeviceSessionStats {
  std::uint64_t batches = 0;
  std::uint64_t reads_accepted = 0;
  std::uint64_t reads_rejected = 0;
  std::uint64_t reads_malformed = 0;      // of reads_rejected: MALFORMED_FRAME (no seq, chip, time)
  std::uint64_t reads_already_acked = 0;  // resent reads at or below acked seq, not re-persisted
  std::uint64_t reads_repeated_in_batch = 0;  // a seq seen earlier in the same batch
  std::uint64_t device_last_acked_seq = 0;    // what the device's Hello said (informational)
  std::string software;                       // Hello.software
  // Device clock minus server clock at the last Hello or Heartbeat carrying a time (includes
  // network delay). Reported only: reads are refused for skew individually, never the session.
  std::optional<DurationMs> clock_offset_ms;
};

// The event model's mat line as the wire's.
v1::Line to_wire(Line line);

class DeviceProtocol {
 public:
  enum class State : std::uint8_t {
    awaiting_hello,  // connected, nothing accepted yet
    loading,         // Hello accepted, waiting for the caller's acked seq to send Welcome
    established,     // Welcome sent: batches, acks and heartbeats
    closed,          // an Error was produced; every further call returns an empty output
  };

  // `event` and `tokens` must outlive the session. `now` starts the idle clock.
  DeviceProtocol(const Event& event, const DeviceTokens& tokens, DeviceProtocolConfig config,
                 TimeMs now);

  // A decoded frame from the device.
  DeviceProtocolOutput on_message(const v1::DeviceMessage& message, TimeMs now);
  // The codec stopped the stream (FrameDecoder's FrameResult::error): FRAME_TOO_LARGE for
  // too_large, MALFORMED_FRAME otherwise; then closes.
  DeviceProtocolOutput on_frame_error(FrameError error, std::string_view detail, TimeMs now);
  // A complete frame did not parse as a DeviceMessage (decode_device_message returned nullopt):
  // MALFORMED_FRAME, then closes.
  DeviceProtocolOutput on_undecodable_frame(std::string_view detail, TimeMs now);
  // Bytes arrived without completing a frame yet: a slow link sending a large batch is not idle.
  void note_bytes_received(TimeMs now);

  // The answer to `load_acked_seq`: the device's highest contiguous handled sequence in Redis.
  DeviceProtocolOutput on_acked_seq_loaded(std::uint64_t acked_seq, TimeMs now);
  // The answer to `persist`: the device's new acked seq and the gaps above it.
  DeviceProtocolOutput on_persisted(std::uint64_t acked_seq, const std::vector<SeqGap>& gaps,
                                    TimeMs now);
  // Redis failed while loading or persisting: Error INTERNAL (with a retry hint) and close. The
  // device resends whatever was not acknowledged when it reconnects.
  DeviceProtocolOutput on_store_error(std::string_view detail, TimeMs now);

  // The server is stopping and the caller has nothing in flight: Error SHUTTING_DOWN, close.
  DeviceProtocolOutput on_shutdown(TimeMs now);

  // Call periodically (about once a second): sends a Heartbeat when the server has sent nothing
  // for heartbeat_interval_ms, or closes a device idle for longer than idle_timeout_ms.
  DeviceProtocolOutput on_tick(TimeMs now);

  State state() const { return state_; }
  bool closed() const { return state_ == State::closed; }
  // False while the batch queue is full (or the session is closed): pause reading the socket.
  bool wants_frames() const;
  // Empty until a Hello is accepted.
  const std::string& device_id() const { return device_id_; }
  const std::string& timing_point_id() const { return timing_point_id_; }
  // The last acked seq loaded or persisted.
  std::uint64_t acked_seq() const { return acked_seq_; }
  bool batch_in_flight() const { return in_flight_.has_value(); }
  std::size_t queued_batches() const { return queue_.size(); }
  const DeviceSessionStats& stats() const { return stats_; }
  const DeviceProtocolConfig& config() const { return config_; }

 private:
  // A validated batch: what to persist and the refusals its Ack will list.
  struct PendingBatch {
    PersistRequest request;
    std::vector<v1::RejectedRead> rejected;
  };

  void handle_hello(const v1::Hello& hello, TimeMs now, DeviceProtocolOutput& out);
  void handle_batch(const v1::ReadBatch& batch, TimeMs now, DeviceProtocolOutput& out);
  void handle_heartbeat(const v1::Heartbeat& heartbeat, TimeMs now, DeviceProtocolOutput& out);
  // Refuses one read (returns its RejectedRead) or fills in its session fields.
  std::optional<v1::RejectedRead> validate(v1::Read& read, TimeMs now) const;
  // Starts persisting queued batches, acknowledging at once those with nothing to persist.
  void release_queued(TimeMs now, DeviceProtocolOutput& out);
  void send_ack(std::uint64_t acked_seq, const std::vector<v1::SeqRange>& gaps,
                std::vector<v1::RejectedRead> rejected, TimeMs now, DeviceProtocolOutput& out);
  void send(v1::ServerMessage message, TimeMs now, DeviceProtocolOutput& out);
  // Sends Error and ends the session.
  void fail(v1::ErrorCode code, std::string text, TimeMs now, DeviceProtocolOutput& out,
            std::uint32_t retry_after_ms = 0);
  void note_activity(TimeMs now);
  void note_device_clock(std::int64_t device_time_ms, TimeMs now);
  bool waiting_on_caller() const;

  const Event& event_;
  const DeviceTokens& tokens_;
  DeviceProtocolConfig config_;
  State state_ = State::awaiting_hello;
  std::string device_id_;
  std::string timing_point_id_;
  v1::Line device_line_ = v1::LINE_UNSPECIFIED;
  std::uint64_t acked_seq_ = 0;
  std::vector<v1::SeqRange> gaps_;  // from the last on_persisted
  std::optional<PendingBatch> in_flight_;
  std::deque<PendingBatch> queue_;
  TimeMs last_received_;  // last frame or bytes from the device, or the end of a wait on us
  TimeMs last_sent_;      // last frame we produced
  DeviceSessionStats stats_;
};

std::string_view to_string(DeviceProtocol::State state);
// A mat line as the wire names it.
v1::Line to_wire(Line line);
// "31 s", "30.5 s", "300.001 s": durations in error texts.
std::string format_seconds(DurationMs duration);

}  // namespace splitstream
