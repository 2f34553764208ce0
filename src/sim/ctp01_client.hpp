// The timing software's side of ChronoTrack CTP01 (what SimpleClient or TsConnector sends), with
// no I/O, for the simulator and the tests: it says hello, takes the server's greeting and
// settings, answers getlocations, start and ping as the real software does, and formats reads
// and gun times in the time format the server asked for. adapters/ctp01_fsm.hpp is the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/ctp01_fsm.hpp"
#include "adapters/line_splitter.hpp"
#include "core/time.hpp"

namespace splitstream {

// One read line's fields (CT01_33~<seq>~<location>~<tag>~<time>~<n>~<reader id>~<port>).
struct Ctp01ReadLine {
  std::uint64_t sequence = 0;
  std::string location;
  std::string tag;        // chip or bib; "guntime" and "newlocation" are special
  std::string time_text;  // as format_ctp01_time writes it
  std::string count = "1";
  std::string reader_id = "DF239A";
  std::string port = "1";
};

// The line with its CR LF.
std::string format_ctp01_read_line(const Ctp01ReadLine& read);

// `time` (UTC ms) as the client writes it: `normal` HH:MM:SS.hh and `iso` YYYY-MM-DDTHH:MM:SS.hh
// in the wall clock at `utc_offset_minutes` (no zone written), `unix` seconds.hh. Hundredths,
// truncated.
std::string format_ctp01_time(TimeMs time, Ctp01TimeFormat format, int utc_offset_minutes);

struct FakeCtp01ClientOptions {
  std::string software = "SimpleClient";
  std::string version = "0.5.0";
  std::vector<std::string> locations = {"START", "10K", "FINISH"};
  std::string reader_id = "DF239A";
  // The timing PC's zone: `normal` and `iso` times are its wall clock.
  int utc_offset_minutes = 0;
  // The format used before the server's settings say otherwise.
  Ctp01TimeFormat time_format = Ctp01TimeFormat::normal;
  // Whether `start` is answered with `ack~start` (unverified; the server must not depend on it).
  bool ack_start = false;
};

class FakeCtp01Client {
 public:
  explicit FakeCtp01Client(FakeCtp01ClientOptions options = {});

  // The first line on a new connection: `SimpleClient~0.5.0~CTP01`.
  std::string hello() const;
  // Bytes from the server; returns the bytes to answer with (empty when none).
  std::string on_bytes(std::string_view bytes);

  // Read lines, numbered 1, 2, ... per client (a new client numbers afresh, as a reconnect may).
  std::string read(const std::string& location, const std::string& tag, TimeMs time,
                   const std::string& port = "1");
  std::string gun_time(const std::string& location, TimeMs time);
  std::string new_location(const std::string& location, TimeMs time);
  std::string ping() const { return "ping\r\n"; }

  // The server's greeting arrived in full (header and every setting).
  bool greeted() const { return greeted_; }
  // `start` received (and no `stop` since): the real software sends reads only then.
  bool started() const { return started_; }
  Ctp01TimeFormat time_format() const { return time_format_; }
  const std::string& server_name() const { return server_name_; }
  const std::vector<std::pair<std::string, std::string>>& settings() const { return settings_; }
  std::uint64_t pings_answered() const { return pings_answered_; }
  std::uint64_t ping_acks() const { return ping_acks_; }
  std::uint64_t location_requests() const { return location_requests_; }
  // Lines after `pushmode-ack=true` that acknowledge reads (`ack~<seq>`), in order.
  const std::vector<std::string>& push_acks() const { return push_acks_; }
  // Lines the client did not understand.
  const std::vector<std::string>& unexpected() const { return unexpected_; }

 private:
  std::string handle_line(const std::string& line);
  std::string next_line(const std::string& location, const std::string& tag, TimeMs time,
                        const std::string& count, const std::string& port);

  FakeCtp01ClientOptions options_;
  LineSplitter splitter_;
  bool header_seen_ = false;
  bool greeted_ = false;
  std::size_t settings_expected_ = 0;
  bool started_ = false;
  bool push_ack_ = false;
  Ctp01TimeFormat time_format_;
  std::string server_name_;
  std::vector<std::pair<std::string, std::string>> settings_;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t pings_answered_ = 0;
  std::uint64_t ping_acks_ = 0;
  std::uint64_t location_requests_ = 0;
  std::vector<std::string> push_acks_;
  std::vector<std::string> unexpected_;
};

}  // namespace splitstream
