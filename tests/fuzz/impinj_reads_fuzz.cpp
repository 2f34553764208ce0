// libFuzzer target: parse_impinj_body on arbitrary bodies (every fourth length as a form post,
// the others as JSON; a form is also recognised by its look).
//
// Invariants (abort on violation, so libFuzzer reports it):
//   * no crash, no throw, no leak;
//   * a refused body has one one-line error and nothing else; the body limit refuses exactly the
//     bodies over it;
//   * reads, heartbeats and malformed objects together respect the object limit; every message
//     is one line; a reader name respects its limit;
//   * every read is well formed (hex EPC, decimal port, UTC time matching the key's
//     microseconds), and the formatter's object for it parses back to the same read.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/impinj_reads.hpp"
#include "fuzz_support.hpp"

namespace {

using splitstream::fuzz::check;

using splitstream::DecoderRawRead;
using splitstream::ImpinjLimits;
using splitstream::ImpinjParseResult;

// Limits small enough for fuzz-sized inputs to reach every refusal.
ImpinjLimits fuzz_limits() {
  ImpinjLimits limits;
  limits.max_body_bytes = 3000;
  limits.max_reads = 8;
  limits.max_depth = 6;
  limits.max_epc_hex_digits = 32;
  limits.max_reader_name_bytes = 16;
  return limits;
}

bool one_line(const std::string& text) {
  return text.find('\n') == std::string::npos && text.find('\r') == std::string::npos;
}

bool all_of(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void check_read(const DecoderRawRead& read, const ImpinjLimits& limits) {
  check(!read.chip.empty() && read.chip.size() <= limits.max_epc_hex_digits &&
            all_of(read.chip, is_hex),
        "a read's chip is 1 to max_epc_hex_digits hex digits");
  check(!read.source.empty() && read.source.size() <= 5 && all_of(read.source, is_digit) &&
            std::stol(read.source) <= 65535 && (read.source == "0" || read.source[0] != '0'),
        "a read's source is an antenna port 0-65535 in decimal");
  const std::string prefix = read.source + "/" + read.chip + "/";
  check(read.key.compare(0, prefix.size(), prefix) == 0, "the key starts with port/epc/");
  const std::string us_text = read.key.substr(prefix.size());
  check(!us_text.empty() && us_text.size() <= 18 && all_of(us_text, is_digit),
        "the key ends in microseconds");
  const std::int64_t us = std::stoll(us_text);
  check(read.time.base == splitstream::DecoderTimeBase::utc, "a read's time is UTC");
  check(read.time.ms == us / 1000, "a read's time is its key's microseconds, truncated to ms");
  check(!read.rssi_dbm || (*read.rssi_dbm >= -200 && *read.rssi_dbm <= 200), "rssi in range");

  // The simulator's object for this read parses back to it.
  splitstream::ImpinjTagRead tag;
  tag.antenna_port = static_cast<int>(std::stol(read.source));
  tag.epc = read.chip;
  tag.first_seen_us = us;
  tag.peak_rssi = read.rssi_dbm;
  const std::string object = splitstream::format_impinj_read(tag);
  const ImpinjParseResult again =
      splitstream::parse_impinj_body(object, "application/json", ImpinjLimits{});
  check(!again.error && again.malformed.empty() && again.reads.size() == 1,
        "the formatted read parses");
  check(again.reads[0].key == read.key && again.reads[0].rssi_dbm == read.rssi_dbm &&
            again.reads[0].time.ms == read.time.ms,
        "the formatted read parses back to the same read");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const ImpinjLimits limits = fuzz_limits();
  const std::string_view content_type =
      size % 4 == 0 ? "application/x-www-form-urlencoded" : "application/json";
  const ImpinjParseResult result = splitstream::parse_impinj_body(body, content_type, limits);

  const bool too_large = result.error && result.error->rfind("body of ", 0) == 0;
  check(too_large == (size > limits.max_body_bytes),
        "the body limit refuses exactly the bodies over it");
  if (result.error) {
    check(!result.error->empty() && one_line(*result.error), "an error is one line");
    check(result.reads.empty() && result.malformed.empty() && result.heartbeats == 0 &&
              result.reader_name.empty(),
          "a refused body yields nothing else");
    return 0;
  }
  check(result.reads.size() + result.heartbeats + result.malformed.size() <= limits.max_reads,
        "the object limit holds");
  for (const std::string& message : result.malformed)
    check(!message.empty() && one_line(message), "malformed messages are one line");
  check(result.reader_name.size() <= limits.max_reader_name_bytes, "reader name limit holds");
  for (const DecoderRawRead& read : result.reads)
    check_read(read, limits);
  return 0;
}
