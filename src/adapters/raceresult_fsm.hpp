// The RACE RESULT decoder / Active Extension protocol (TCP 3601, `;` fields, lines in CR LF) as a
// state machine with no I/O. We dial out to the decoder; it says nothing until we speak.
//
// Life of a connection, seen from the caller (see adapters/decoder_protocol.hpp for the
// persistence contract every vendor protocol shares):
//
//   RaceResultProtocol rr(options, stored_cursors, now);  // cursors: file -> contiguous passing
//   out = rr.on_connected(now);     // SETPROTOCOL, GETTIME, GETSTATUS, PASSINGS
//   out = rr.on_bytes(bytes, now);  // replies, range fetches, pushed `#P;` passings
//   out = rr.on_persisted(now);     // the batch in out.persist is stored (with its cursors)
//   out = rr.on_tick(now);          // about once a second: PING, status polls, reply timeout
//
// After each call: write `out.send` in order; store `out.persist` (reads deduplicated by key,
// cursors in the same atomic step) then call on_persisted(); close once `send` is written when
// `out.close_after_send`, then make a new RaceResultProtocol with the stored cursors and redial.
//
// Gap fill. The decoder numbers passings 1, 2, ... in each passing file (a new file opens with
// every STARTOPERATION). We hold, per file, the cursor: the highest n such that passings 1..n are
// all stored. On connect, PASSINGS tells the current file's count; every missing number between
// the cursor and the count is fetched with `<from>:<count>` ranges (answered by the records and
// an empty line), in chunks. Then new passings are pushed (`SETPUSHPASSINGS;1;0`) as `#P;...`
// lines, which may arrive at any moment, also between a command and its reply and inside a
// range reply. A pushed passing that skips numbers starts a range fetch of the skipped ones; a
// PASSINGS poll every status interval catches a last passing whose push was lost. A cursor only
// moves contiguously: a passing stored above a hole does not move it until the hole is stored.
//
// Identity: DecoderRawRead::key = "<file>/<passing number>". The file number is the record's
// FileNumber field (protocol 1.6 and later, 20 fields) or else the PASSINGS reply's; a decoder
// whose PASSINGS reply carries no file number either (old protocols) gets file numbers counted
// by us: a count lower than what we hold of the current file means the next file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/decoder_protocol.hpp"
#include "adapters/line_splitter.hpp"
#include "core/time.hpp"

namespace splitstream {

// One passing record as the decoder wrote it.
struct RaceResultRecord {
  std::uint64_t number = 0;
  std::string chip;
  DecoderTime time;
  std::optional<int> rssi;
  std::optional<std::uint32_t> file;
  std::string box;
  std::optional<unsigned> internal_active_data;
};

struct RaceResultOptions {
  // Sent as SETPROTOCOL on connect; empty sends none (the decoder keeps its own). "2.0" is the
  // vendor quick start's version and gives the 20-field record with BoxName and FileNumber
  // (1.6 and later), so reads carry their file number; older layouts are parsed all the same.
  std::string protocol_version = "2.0";
  // Passings asked for per range command (`<from>:<count>`).
  std::uint32_t fetch_chunk = 500;
  // How the second number of a range command reads. The brief documents `<from>:<count>`;
  // its gap-fill recipe (`<last+1>:<n>`) reads like `<from>:<to>`. Unverified: a setting.
  enum class RangeSyntax : std::uint8_t { from_count, from_to };
  RangeSyntax range_syntax = RangeSyntax::from_count;
  // A PING goes out when nothing was sent for this long.
  DurationMs ping_interval_ms = 30'000;
  // PING's reply is unverified: true waits for one line (any content) like any reply, so a
  // silent decoder is noticed; false writes PING without waiting and swallows any line that
  // starts with "PING" whenever it comes.
  bool ping_expects_reply = true;
  // A command unanswered this long closes the connection, so the caller redials. A range
  // fetch counts each record as progress; the clock pauses while wants_bytes() is false.
  DurationMs reply_timeout_ms = 15'000;
  // GETSTATUS, GETTIME and PASSINGS (the safety net for a lost last push) every so often.
  DurationMs status_poll_interval_ms = 60'000;
  // Send STARTOPERATION when GETSTATUS says the decoder is not in operation, and only once its
  // current file is fully fetched. Off by default: a start opens a new passing file, and the
  // passings of a file left unfetched are stranded (a range reads the current file only).
  bool start_operation = false;
  // Transponder codes that mark a trigger passing (a contact input or a marker button, not a
  // chip): they become DecoderGunMarker entries (label "trigger <code>") instead of reads, and
  // advance the cursor like any passing. "99999" is the trigger marker metarace assumes;
  // unverified for other setups, hence a setting (empty: every passing is a read).
  std::vector<std::string> trigger_codes = {"99999"};
  // Parsed passings waiting behind the batch in flight; at or above this, wants_bytes() is false
  // and no further range is requested. Bytes fed anyway are still parsed (nothing is dropped).
  std::size_t max_queued_reads = 5'000;
  // Reads per persisted batch.
  std::size_t max_batch_reads = 500;
  // Longest line accepted; longer ones are dropped and reported.
  std::size_t max_line_bytes = 2'048;
};

struct RaceResultStats {
  std::uint64_t passings_pushed = 0;   // `#P;` records taken (new ones)
  std::uint64_t passings_fetched = 0;  // range records taken (new ones)
  std::uint64_t duplicates = 0;        // records we already held or had stored
  std::uint64_t triggers = 0;          // trigger passings turned into markers
  std::uint64_t stored_late = 0;       // InternalActiveData bit 0x40 (a stored, late passing)
  std::uint64_t malformed = 0;
  std::uint64_t refetched_gaps = 0;
  std::uint64_t refetched_reads = 0;
  std::uint64_t batches_persisted = 0;
  std::string active_protocol;                 // the SETPROTOCOL echo
  std::optional<std::uint32_t> current_file;   // the file the decoder writes to
  std::optional<std::uint64_t> decoder_count;  // passings in it, per the last PASSINGS
};

class RaceResultProtocol {
 public:
  // `cursors`: file number -> highest passing number stored with nothing missing below it (what
  // earlier batches' "cursor:<file>" entries stored). `now` starts the clocks.
  RaceResultProtocol(RaceResultOptions options, std::map<std::uint32_t, std::uint64_t> cursors,
                     TimeMs now);

  // The connection is up: we speak first.
  DecoderOutput on_connected(TimeMs now);
  // Bytes read from the socket, cut anywhere.
  DecoderOutput on_bytes(std::string_view bytes, TimeMs now);
  // The batch of the last out.persist is stored, with its cursors.
  DecoderOutput on_persisted(TimeMs now);
  // Storing failed: close; the next connection refetches from the stored cursors.
  DecoderOutput on_store_error(std::string_view detail, TimeMs now);
  // Call about once a second.
  DecoderOutput on_tick(TimeMs now);

  // False while the parsed-but-unstored passings reach max_queued_reads, or once closed: stop
  // reading the socket until it turns true again.
  bool wants_bytes() const;
  bool closed() const { return closed_; }
  bool batch_in_flight() const { return in_flight_batch_.has_value(); }
  std::size_t queued_reads() const { return queue_.size(); }
  // The cursors as stored so far (the constructor's, advanced by every on_persisted).
  std::map<std::uint32_t, std::uint64_t> stored_cursors() const;
  const RaceResultStats& stats() const { return stats_; }
  const RaceResultOptions& options() const { return options_; }
  // Passings of the decoder's current file not stored yet, per its last PASSINGS count (the
  // crew's "backlog"); nullopt until both the file and its count are known.
  std::optional<std::uint64_t> backlog() const;

 private:
  enum class CommandKind : std::uint8_t {
    set_protocol,
    start_operation,
    get_time,
    get_status,
    passings,
    set_push,
    range,
    ping
  };
  struct Command {
    CommandKind kind = CommandKind::ping;
    std::uint32_t file = 0;   // range: the file it reads (dropped if the decoder moved on)
    std::uint64_t from = 0;   // range: first passing number
    std::uint64_t count = 0;  // range: how many (queued: a whole gap, sent in fetch_chunk pieces)
  };
  struct InFlight {
    Command command;
    std::string name;           // the reply's expected first field
    TimeMs progress = 0;        // sent, or the last record of a range reply
    std::uint64_t records = 0;  // range: lines received so far
  };
  // What we know of one passing file.
  struct FileState {
    std::uint64_t stored = 0;              // cursor: 1..stored are all stored
    std::set<std::uint64_t> stored_above;  // stored, above a hole
    std::set<std::uint64_t> pending;       // queued or in the batch in flight
    std::uint64_t requested_upto = 0;      // highest number asked for by a range this session
  };
  struct QueuedPassing {
    std::uint32_t file = 0;
    std::uint64_t number = 0;
    bool trigger = false;
    DecoderRawRead read;
  };
  struct Batch {
    std::vector<QueuedPassing> passings;
  };
  void handle_line(const std::string& line, TimeMs now, DecoderOutput& out);
  void handle_push(std::string_view record, TimeMs now, DecoderOutput& out);
  void handle_range_line(const std::string& line, TimeMs now, DecoderOutput& out);
  void handle_reply(const std::string& line, TimeMs now, DecoderOutput& out);
  void handle_passings_reply(const std::vector<std::string_view>& fields, DecoderOutput& out);
  bool range_pending() const;
  void handle_status_reply(const std::vector<std::string_view>& fields, DecoderOutput& out);
  // Takes one record of `file` unless held already; true when it was new.
  bool take_record(const RaceResultRecord& record, std::uint32_t file);
  // Queues range commands for every number of `file` in [from, to] not held.
  void plan_fetch(std::uint32_t file, std::uint64_t from, std::uint64_t to, DecoderOutput& out);
  void switch_file(std::uint32_t file, DecoderOutput& out);
  // The highest number of `file` held, stored or asked for.
  std::uint64_t known_top(std::uint32_t file) const;
  std::uint64_t held_top(std::uint32_t file) const;
  void enqueue(Command command);
  void enqueue_unique(CommandKind kind);
  void dispatch(TimeMs now, DecoderOutput& out);
  void maybe_persist(DecoderOutput& out);
  void maybe_start_operation();
  void malformed(std::string message, DecoderOutput& out);
  void close(std::string reason, DecoderOutput& out);
  std::string command_text(const Command& command) const;

  RaceResultOptions options_;
  std::map<std::uint32_t, FileState> files_;
  LineSplitter splitter_;
  bool connected_ = false;
  bool closed_ = false;
  bool push_requested_ = false;
  bool start_operation_sent_ = false;
  bool decoder_idle_ = false;  // GETSTATUS said operation mode 0
  std::optional<std::uint32_t> current_file_;
  std::deque<Command> commands_;
  std::optional<InFlight> in_flight_;
  std::deque<QueuedPassing> queue_;
  std::optional<Batch> in_flight_batch_;
  TimeMs last_sent_;
  TimeMs last_poll_;
  RaceResultStats stats_;
};

// Parses a passing record (20 fields, or the 4-9 leading fields of older protocols); nullopt
// with `error` set when it is not one. Exposed for the fake decoder's tests.
std::optional<RaceResultRecord> parse_raceresult_record(std::string_view record,
                                                        std::string& error);
// "0000-00-01" + "00:02:12.942" -> {86'532'942, local_time_of_day}; "2025-04-06" -> local_civil.
std::optional<DecoderTime> parse_raceresult_time(std::string_view date, std::string_view time);

}  // namespace splitstream
