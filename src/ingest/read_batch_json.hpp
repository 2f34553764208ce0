// A ReadBatch from the JSON body of an HTTP POST, for devices that push reads over HTTP.
//
// Accepted form (every read field optional unless marked required):
//
//   {"reads": [{"device_id": "dec-finish-a",        string
//               "timing_point_id": "finish",        string
//               "chip": "E2801160600002086A1B2C3D", string, required
//               "time_ms": 1743894000250,           integer, Unix epoch ms UTC; or instead:
//               "time": "2025-04-06T08:00:00.250+09:00",  ISO 8601 with a UTC offset
//               "seq": 12,                          integer >= 0, required
//               "line": "main",                     "main" | "backup"
//               "rssi_dbm": -51}]}                  integer (int32)
//
// Exactly one of time_ms and time is required. The canonical proto3 JSON mapping of ReadBatch
// (what protobuf's MessageToJsonString writes) is accepted too, so a device built on a protobuf
// JSON library needs no special code: lowerCamelCase names (timingPointId, timeMs, rssiDbm,
// deviceId), 64-bit integers as decimal strings ("1743894000250"), enum names and numbers for
// line ("LINE_MAIN", 1; "LINE_UNSPECIFIED" or 0 for not reported), and null for "not given".
// A field named twice (time_ms and timeMs, or time_ms and time) is an error; a key repeated
// verbatim takes its last value (Boost.JSON keeps the last duplicate).
//
// Why a hand-written mapping over protobuf's JsonStringToMessage: it names the read and field
// of every problem ("reads[3].time_ms: expected an integer", "reads[0]: missing seq"), requires
// the fields a read cannot do without (proto3 JSON would default them to 0 or ""), and takes the
// ISO `time` form. Unknown fields are rejected, at either level.
//
// Limits are checked before the work they bound: the body size before parsing, the number of
// reads before converting any. Nothing throws (Boost.JSON with error codes; std::bad_alloc
// aside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/device_protocol.hpp"
#include "ingest/frame_codec.hpp"
#include "splitstream/v1/device.pb.h"

namespace splitstream {

struct ReadBatchJsonLimits {
  std::size_t max_body_bytes = kDefaultMaxFrameBytes;                  // as a device frame
  std::size_t max_reads = DeviceProtocolConfig{}.max_reads_per_batch;  // as a device batch
};

enum class ReadBatchJsonError : std::uint8_t {
  none,
  body_too_large,  // HTTP 413
  too_many_reads,  // HTTP 413
  invalid_json,    // not JSON at all: HTTP 400
  invalid_batch,   // JSON, but not a valid ReadBatch (type, missing, unknown field): HTTP 400
};

struct ReadBatchJsonStatus {
  ReadBatchJsonError error = ReadBatchJsonError::none;
  // Empty when ok; otherwise one line naming the place, e.g. "reads[3].time_ms: expected an
  // integer", "reads[0]: missing seq", "invalid JSON at offset 17: syntax error" (0-based).
  std::string message;

  bool ok() const { return error == ReadBatchJsonError::none; }
};

// Parses `body` into `out` (cleared first; cleared again on error, so it never holds half a
// batch). `out` may live on an arena.
ReadBatchJsonStatus parse_read_batch_json(std::string_view body, splitstream::v1::ReadBatch& out,
                                          const ReadBatchJsonLimits& limits = {});

}  // namespace splitstream
