// A fake RACE RESULT decoder with no I/O, for the simulator and the tests of
// adapters/raceresult_fsm: passing files numbered from 1, a clock that runs off (CrossMgr's fake
// decoder is 13 min 13 s off on purpose), the commands a client sends (SETPROTOCOL, GETTIME,
// GETSTATUS, PASSINGS, `<from>:<count>` ranges, SETPUSHPASSINGS, STARTOPERATION, PING) and
// pushed `#P;` passings, with the faults that matter: a push lost, pushes written between a
// command and its reply (or inside a range reply), a new passing file mid-race.
//
// Times given to it are "true local time": milliseconds since local midnight of the race's first
// day. The decoder stamps passings with its own clock, true time + clock_offset_ms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace splitstream {

struct FakeRaceResultOptions {
  std::string box_name = "Finish-A";
  std::string box_id = "4711";
  // The decoder clock minus true time.
  DurationMs clock_offset_ms = 13 * 60'000 + 13'000;
  // Its date for day 0 when it has one (GPS or SETTIME with a date); otherwise dates are the day
  // counter 0000-00-00, 0000-00-01, ...
  std::optional<CivilDate> date;
  // PASSINGS;<count>;<file> (true) or PASSINGS;<count> (old protocols).
  bool file_number_in_passings = true;
  // Records in the 20-field layout of protocol 1.6+ (true) or the old 8-field one.
  bool twenty_field_records = true;
  // `<from>:<count>` (true) or `<from>:<to>` ranges.
  bool range_second_is_count = true;
  // Its answer to PING (unverified for real decoders).
  std::string ping_reply = "PING;OK";
};

class FakeRaceResultDecoder {
 public:
  explicit FakeRaceResultDecoder(FakeRaceResultOptions options = {});

  // A passing read at true local time `true_ms`; returns its passing number in the current file.
  // Pushed to a connected client when push is on (see take_pushed()).
  std::uint64_t add_passing(std::string chip, TimeMs true_ms, int rssi_dbm = -60);
  // Opens a new passing file, as STARTOPERATION does: numbering restarts at 1.
  void new_file();

  // A client connected / the line dropped: push is off until SETPUSHPASSINGS again, and a
  // half-received command is forgotten.
  void connect();
  void disconnect();

  // Bytes from the client; returns the bytes the decoder answers (in order).
  std::string on_bytes(std::string_view bytes, TimeMs true_now);
  // Pushed `#P;` lines waiting to be written to the client (empty unless connected with push on).
  std::string take_pushed();

  // Faults. The next `count` pushes are lost (the passings stay in the file).
  void drop_next_pushes(std::size_t count) { drop_pushes_ += count; }
  // While on, pushes are held back and written inside the next reply instead: before a command's
  // reply line, or after the first record of a range reply.
  void interleave_pushes(bool on) { interleave_ = on; }
  // Pushes held for interleaving, written now instead (a decoder does not hold them for long).
  std::string take_held_pushes() { return take_held(); }
  bool holds_pushes() const { return !held_.empty(); }

  std::uint32_t current_file_number() const;
  std::size_t file_count() const { return files_.size(); }
  // Passings of file `file_number` (1-based) as record lines without CR LF.
  const std::vector<std::string>& passings(std::uint32_t file_number) const;
  std::uint64_t total_passings() const;
  // Every passing of every file has gone to a client (pushed, or in a range reply).
  bool all_delivered() const { return undelivered_ == 0; }
  std::uint64_t delivered() const { return total_passings() - undelivered_; }
  // Every command received, in order (without CR LF).
  const std::vector<std::string>& commands() const { return commands_; }
  bool push_enabled() const { return push_; }
  bool operating() const { return operating_; }

 private:
  std::string answer(const std::string& command, TimeMs true_now);
  std::string record_line(std::uint64_t number, const std::string& chip, TimeMs decoder_ms,
                          int rssi_dbm) const;
  std::string format_date(TimeMs decoder_ms) const;
  static std::string format_time(TimeMs decoder_ms);
  std::string take_held();
  void mark_delivered(std::size_t file, std::uint64_t number);

  FakeRaceResultOptions options_;
  std::vector<std::vector<std::string>> files_;
  std::vector<std::string> commands_;
  std::string partial_;
  std::string pushed_;
  std::string held_;
  bool connected_ = false;
  bool push_ = false;
  bool operating_ = true;
  bool interleave_ = false;
  std::size_t drop_pushes_ = 0;
  std::string protocol_ = "2.0";
  // Delivery, for a player that must know when it is done: per file, per passing.
  std::vector<std::vector<bool>> delivered_{1};
  std::uint64_t undelivered_ = 0;
  // Passings in pushed_ / held_, delivered once taken (a disconnect drops them).
  std::vector<std::pair<std::size_t, std::uint64_t>> in_pushed_, in_held_;
};

}  // namespace splitstream
