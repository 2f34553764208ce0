// ChronoTrack CTP01 (SimpleClient, TsConnector, ChronoTrack Live) as a state machine with no I/O.
// The timing software dials in to us; the caller accepts the connection, feeds this class the
// bytes and the time, and does what each DecoderOutput says (adapters/decoder_protocol.hpp).
//
//   > SimpleClient~0.5.0~CTP01                      the client's hello: name~version~CTP01
//   < Splitstream~1.0~4                             our greeting: name~version~N, then N settings
//   < stream-mode=push
//   < time-format=iso
//   < guntimes=true
//   < newlocations=true
//   < getlocations
//   > ack~getlocations~START~10K~FINISH             -> notices.locations
//   < start                                         sent once the locations are in (or after
//                                                   Ctp01Options::start_wait_ms without them)
//   > CT01_33~1~START~1234~2025-04-06T08:00:01.25~1~DF239A~1      a read -> persist
//   < ping / > ping                                 either side; answered with ack~ping
//
// Reads: `CT01_33~<seq>~<location>~<tag>~<time>~<n>~<reader id>~<port>` (CT01_13 alike). The time
// is read by its shape, whatever format we asked for: `HH:MM:SS.hh` (time of day), ISO
// `YYYY-MM-DDTHH:MM:SS.hh` (local wall clock; UTC when it carries a zone or Z), or Unix
// `seconds.hh` (UTC). The tag `guntime` is a gun marker, `newlocation` makes us ask
// `getlocations` again. A read's key is built from its content, never from the sequence number
// (a reconnecting client may number afresh): "<location>~<tag>~<time as sent>~<reader>~<port>";
// `~` cannot occur inside a field, so the key is unambiguous.
//
// Persistence: what one on_bytes call brings becomes one DecoderBatch; while a batch is in flight,
// later reads queue up (max_queued_reads) and go out together as the next batch on on_persisted.
// wants_bytes() turns false when the queue is full; bytes fed anyway close the connection (the
// bound holds: the queue exceeds the limit by at most one on_bytes call). No bytes from the
// client for idle_timeout_ms closes it too (the clock stops while the queue is full, since the
// caller is then not reading).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/decoder_protocol.hpp"
#include "adapters/line_splitter.hpp"
#include "core/time.hpp"

namespace splitstream {

// The `time-format` setting: how the client writes a read's time.
enum class Ctp01TimeFormat : std::uint8_t {
  normal,        // HH:MM:SS.hh, time of day
  iso,           // YYYY-MM-DDTHH:MM:SS.hh, wall clock, no zone
  unix_seconds,  // seconds.hh since the Unix epoch (the setting's value is `unix`)
};

std::string_view to_string(Ctp01TimeFormat format);
std::optional<Ctp01TimeFormat> parse_ctp01_time_format(std::string_view text);

struct Ctp01Options {
  // Our greeting: `<server_name>~<server_version>~<number of settings>`.
  std::string server_name = "Splitstream";
  std::string server_version = "1.0";
  // Settings we ask for, in this order: stream-mode, time-format, guntimes, newlocations, then
  // pushmode-ack (only when push_ack), then extra_settings as given (e.g. {"location", "multi"},
  // {"authentication", "none"}).
  std::string stream_mode = "push";  // this class drives push mode only (reads arrive unasked)
  Ctp01TimeFormat time_format = Ctp01TimeFormat::iso;
  bool guntimes = true;
  bool newlocations = true;
  // Unverified: what pushmode-ack=true asks of the server. When true we add
  // `pushmode-ack=true` to the settings and, once a batch is stored (on_persisted), send one
  // line `<push_ack_prefix><seq>` per stored read or gun time, in arrival order, with <seq> the
  // line's sequence field as sent. False (the default) sends no setting and no acks.
  bool push_ack = false;
  std::string push_ack_prefix = "ack~";
  std::vector<std::pair<std::string, std::string>> extra_settings;

  // `start` goes out when the client answers getlocations, or this long after the greeting if
  // it never does (0: with the greeting, not waiting for the locations).
  DurationMs start_wait_ms = 5'000;
  // We send `ping` when we have sent nothing for this long (after the hello).
  DurationMs ping_interval_ms = 10'000;
  // No bytes from the client for this long closes the connection.
  DurationMs idle_timeout_ms = 45'000;
  // A longer line is dropped (and reported); the connection goes on.
  std::size_t max_line_bytes = 1024;
  // Reads and gun times waiting behind the batch in flight before wants_bytes() turns false.
  std::size_t max_queued_reads = 10'000;
};

struct Ctp01Stats {
  std::uint64_t reads = 0;      // reads accepted (resends included)
  std::uint64_t gun_times = 0;  // guntime lines accepted
  std::uint64_t malformed = 0;  // lines reported as malformed (overlong ones included)
  std::uint64_t pings_received = 0;
  std::uint64_t location_requests = 0;  // getlocations sent
  std::string last_sequence;            // the seq field of the last read or gun time
};

class Ctp01Protocol {
 public:
  enum class State : std::uint8_t {
    awaiting_hello,      // connected, the client has not said who it is
    awaiting_locations,  // greeting and getlocations sent, start not yet
    streaming,           // start sent: reads flow
    closed,              // every further call returns an empty output
  };

  Ctp01Protocol(Ctp01Options options, TimeMs now);

  // Bytes from the client, in any chunking.
  DecoderOutput on_bytes(std::string_view bytes, TimeMs now);
  // The batch of the last `persist` is stored: sends push acks (if enabled) and hands out the
  // queued reads as the next batch, if any.
  DecoderOutput on_persisted(TimeMs now);
  // Storing failed: close, so that nothing more is taken that cannot be stored.
  DecoderOutput on_store_error(std::string_view detail, TimeMs now);
  // Call about once a second: pings, the start fallback, the idle timeout.
  DecoderOutput on_tick(TimeMs now);

  // False while the queue is full or the session is closed: stop reading the socket.
  bool wants_bytes() const;
  State state() const { return state_; }
  bool closed() const { return state_ == State::closed; }
  bool batch_in_flight() const { return in_flight_; }
  std::size_t queued_reads() const { return queue_.size(); }
  // From the hello; empty before it.
  const std::string& client_software() const { return client_software_; }
  const std::string& client_version() const { return client_version_; }
  const Ctp01Stats& stats() const { return stats_; }
  const Ctp01Options& options() const { return options_; }

 private:
  // A read or a gun time, as it waits for its batch.
  struct Pending {
    std::optional<DecoderRawRead> read;
    std::optional<DecoderGunMarker> marker;
    std::string sequence;
  };

  void handle_line(std::string_view line, TimeMs now, DecoderOutput& out,
                   std::vector<Pending>& arrived);
  void handle_hello(const std::vector<std::string_view>& fields, TimeMs now, DecoderOutput& out);
  void handle_read(std::string_view line, const std::vector<std::string_view>& fields, TimeMs now,
                   DecoderOutput& out, std::vector<Pending>& arrived);
  void handle_ack(const std::vector<std::string_view>& fields, TimeMs now, DecoderOutput& out);
  void send_start(TimeMs now, DecoderOutput& out);
  void send_line(std::string line, TimeMs now, DecoderOutput& out);
  void malformed(std::string what, std::string_view line, DecoderOutput& out);
  // Moves the queue into out.persist (one batch in flight).
  void release_queue(DecoderOutput& out);
  void close(std::string reason, DecoderOutput& out);

  Ctp01Options options_;
  State state_ = State::awaiting_hello;
  LineSplitter splitter_;
  std::string client_software_;
  std::string client_version_;
  bool in_flight_ = false;
  std::vector<std::string> in_flight_sequences_;  // for push acks
  std::deque<Pending> queue_;
  TimeMs greeting_sent_ = 0;
  TimeMs last_received_;
  TimeMs last_sent_;
  Ctp01Stats stats_;
};

std::string_view to_string(Ctp01Protocol::State state);

// A read's time as CTP01 writes it, recognised by its shape (see the top of this file):
// nullopt when it has none of the three shapes or is out of range.
std::optional<DecoderTime> parse_ctp01_time(std::string_view text);

}  // namespace splitstream
