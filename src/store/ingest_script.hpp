// The Lua script that appends one device's batch to the event's read stream, deduplicated by
// (device, seq), and moves the device's acked sequence forward in the same atomic step
// (docs/redis.md, "Ingesting a batch").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/seq_gap.hpp"
#include "store/key_schema.hpp"

namespace splitstream::v1 {
class Read;
}

namespace splitstream {

// The script's source; load it once with SCRIPT LOAD and call it with EVALSHA.
std::string_view ingest_script();

// Appends the arguments after the script's SHA: numkeys, the three keys, then the device id,
// the server time, and per read a kind ('a' accepted, 'r' rejected) and its fields.
void append_ingest_script_args(std::vector<std::string>& args, const KeySchema& keys,
                               std::string_view device_id, std::int64_t now_ms,
                               const std::vector<v1::Read>& accepted,
                               const std::vector<std::uint64_t>& rejected_seqs);

// Appends a read's fields as both ingest scripts take them: seq, timing point, chip, time_ms,
// line ("main", "backup" or empty), rssi (or empty).
void append_read_args(std::vector<std::string>& args, const v1::Read& read);

struct IngestResult {
  std::uint64_t acked_seq = 0;   // highest contiguous sequence Redis holds for the device
  std::uint64_t appended = 0;    // reads appended to the stream by this batch
  std::uint64_t duplicates = 0;  // reads Redis already had
  std::vector<SeqGap> gaps;      // missing ranges above acked_seq (at most 100)
};

}  // namespace splitstream
