// Impinj Speedway Connect tag reads posted over HTTP: a pure parser of one POST body (no I/O,
// no state: every POST stands alone and the reader resends nothing we could acknowledge), and
// the formatter the simulator posts with.
//
// Speedway Connect writes one JSON object per tag read (Impinj's "Data Integration" article):
//   {"antennaPort":7,"epc":"999908290000000000000004",
//    "firstSeenTimestamp":"2018-06-14T00:15:54.36879Z","peakRssi":-51,"isHeartBeat":false}
// and the same objects with "isHeartBeat":true as heartbeats. How an HTTP POST wraps them is
// not documented anywhere we found, so the parser accepts every plausible shape:
//   * one object, or several objects one after another (newline-delimited or pretty-printed
//     over several lines, as that article prints them);
//   * an array of objects;
//   * an object wrapping such an array under one of `ImpinjBodyFormat::wrapper_keys`;
//   * an `application/x-www-form-urlencoded` body with the JSON in one of
//     `ImpinjBodyFormat::form_json_fields`.
// The wrapper keys, the form field names and the reader-name keys are settings, not guesses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/decoder_protocol.hpp"

namespace splitstream {

struct ImpinjLimits {
  // The HTTP layer bounds the body already; this parser refuses a longer one on its own too.
  std::size_t max_body_bytes = 1 << 20;
  // Tag objects (reads, heartbeats and malformed ones) in one body; more refuses the body.
  std::size_t max_reads = 2000;
  // JSON nesting: wrapper object, array, tag object, and the reader's nested extras
  // (confidenceData in location mode) fit well within it.
  std::size_t max_depth = 16;
  // Longest EPC accepted, in hex digits (496 bits, the most Gen2 allows, is 124).
  std::size_t max_epc_hex_digits = 128;
  // A reader name longer than this is ignored.
  std::size_t max_reader_name_bytes = 128;
};

// The unverified parts of the wire format, as settings. Names are matched exactly.
struct ImpinjBodyFormat {
  // Keys of an object that wraps the array of tag objects.
  std::vector<std::string> wrapper_keys = {"tag_reads", "tagReads", "reads", "tags", "data"};
  // Form fields that carry JSON (each one a body of any JSON shape above).
  std::vector<std::string> form_json_fields = {"tag_reads", "json", "data", "reads"};
  // Keys (in a tag object, a wrapper object, or a form field) naming the reader, by preference
  // within one object; the first object or form that has one gives the name.
  std::vector<std::string> reader_name_keys = {"readerName", "reader_name", "hostname", "hostName",
                                               "macAddress", "mac_address", "mac"};
};

struct ImpinjParseResult {
  // One per tag object that is a read: key "<antennaPort>/<epc>/<firstSeen microseconds>",
  // source the antenna port in decimal, chip the EPC as sent, time UTC ms (truncated).
  std::vector<DecoderRawRead> reads;
  std::size_t heartbeats = 0;
  // One per tag object that could not be read, naming its index in the body (from 0, in
  // order, across wrappings) and what is wrong; the other objects are read regardless.
  std::vector<std::string> malformed;
  // The body as a whole was refused (not JSON at all, empty, over a limit, a form without
  // JSON): set, one line, and then reads, heartbeats and malformed are empty.
  std::optional<std::string> error;
  std::string reader_name;  // "" when the body names no reader
};

// `content_type` is the request's Content-Type header value ("" when absent); parameters
// (";charset=...") are ignored. Never throws.
ImpinjParseResult parse_impinj_body(std::string_view body, std::string_view content_type,
                                    const ImpinjLimits& limits,
                                    const ImpinjBodyFormat& format = ImpinjBodyFormat{});

// "2018-06-14T00:15:54.36879Z" (0-9 fraction digits, kept to the microsecond, truncated; "Z"
// or a "+hh:mm" offset) as microseconds since the Unix epoch. nullopt when not such a time or
// before 1970.
std::optional<std::int64_t> parse_impinj_timestamp_us(std::string_view text);
// Microseconds since the epoch (>= 0) as Speedway Connect writes them: UTC, "Z", the fraction with
// its trailing zeros dropped (".36879" for 368790 us) and no fraction at all on a whole second.
std::string format_impinj_timestamp_us(std::int64_t us);

// A read as the simulator's fake reader posts it.
struct ImpinjTagRead {
  int antenna_port = 1;
  std::string epc;  // hex digits
  std::int64_t first_seen_us = 0;
  std::optional<int> peak_rssi;
};

// One Speedway Connect JSON object (no line ending); the caller joins several with '\n'.
std::string format_impinj_read(const ImpinjTagRead& read);
// A heartbeat object as the reader sends it between reads.
std::string format_impinj_heartbeat();

}  // namespace splitstream
