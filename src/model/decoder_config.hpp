// The timing hardware of an event (decoders.json in the event directory, optional): each
// decoder's protocol, where to reach it or listen for it, which of its locations, boxes or
// antennas is which timing point and line, and how to read its clock. docs/decoders.md has a
// worked example per vendor.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "model/diagnostics.hpp"
#include "model/event.hpp"

namespace splitstream {

enum class DecoderProtocolKind : std::uint8_t { raceresult, ctp01, mylaps, impinj };
std::string_view to_string(DecoderProtocolKind k);  // "raceresult", "ctp01", "mylaps", "impinj"
std::optional<DecoderProtocolKind> parse_decoder_protocol(std::string_view s);

struct DecoderTarget {
  TimingPointIndex timing_point = kNoIndex;
  Line line = Line::unspecified;
};

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

struct DecoderConfig {
  std::string id;  // also the device id of its reads in the read stream
  DecoderProtocolKind protocol = DecoderProtocolKind::raceresult;
  std::optional<HostPort> dial;    // raceresult: the decoder's address (port 3601 by default)
  std::optional<HostPort> listen;  // ctp01, mylaps: where the timing software connects to
  // Addresses (a.b.c.d or a.b.c.d/n) allowed to connect (ctp01, mylaps) or post (impinj); empty:
  // any. CTP01 and MYLAPS carry no credentials of their own.
  std::vector<std::string> allow;
  // The decoder's names (RACE RESULT box name, CTP01/MYLAPS location, Impinj antenna port) ->
  // where they are. A name not listed falls back to `fallback`, else the read is refused as
  // from an unknown location.
  std::map<std::string, DecoderTarget> sources;
  std::optional<DecoderTarget> fallback;
  // Clock: the decoder's local time is UTC + utc_offset_minutes (default: the event's); times
  // without a date count from date_base (a day number, days_from_civil; default: the date of the
  // event's first gun in the event's zone).
  int utc_offset_minutes = 0;
  std::int64_t date_base_days = 0;
  // Subtract the decoder's measured (RACE RESULT GETTIME) or estimated clock offset from its
  // reads. Off by default: a wrong estimate would move every read.
  bool correct_clock_offset = false;
  // Protocol settings (docs/decoders.md lists which protocol reads which).
  std::string raceresult_protocol = "2.0";  // SETPROTOCOL version
  bool raceresult_start_operation = false;  // send STARTOPERATION on connect (opens a new file)
  bool raceresult_range_to = false;         // ranges as <from>:<to>, not <from>:<count>
  bool raceresult_ping_reply = true;        // the decoder answers PING with a line
  std::string ctp01_time_format = "iso";    // normal, iso or unix
  bool ctp01_pushmode_ack = false;
  int mylaps_version = 2;  // 2: AckPong@Version2.1, 1: AckPong alone
};

// Parses decoders.json ({"decoders": [...]}) for `event` (whose timing points it names).
std::vector<DecoderConfig> parse_decoders(std::string_view json_text, const Event& event,
                                          Diagnostics& problems,
                                          const std::string& file_name = "decoders.json");

// Whether `address` (dotted IPv4 or IPv6 text) is allowed by `allow` (empty: everyone).
bool address_allowed(const std::vector<std::string>& allow, std::string_view address);

}  // namespace splitstream
