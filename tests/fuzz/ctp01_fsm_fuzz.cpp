// libFuzzer target: Ctp01Protocol on arbitrary bytes, fed in chunk sizes drawn from the input, with
// the store answering each batch (on_persisted) when the protocol stops wanting bytes, and the
// clock ticking now and then.
//
// Input: byte 0 picks the options (line limit, queue bound, push acks), byte 1 seeds the chunk
// sizes, the rest is what the client sends.
// Invariants (abort on violation, so libFuzzer reports it):
//   * one batch in flight: a batch comes out only when none is in flight;
//   * the queue stays within its bound plus one chunk's lines, and wants_bytes() is false at it;
//   * every read or marker accepted is handed out for storing exactly once, once drained;
//   * every line we send ends in CR LF; every read has a key, a location and a chip;
//   * every malformed line is counted; a closed protocol stays closed and silent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/ctp01_fsm.hpp"
#include "fuzz_support.hpp"

namespace {

using splitstream::fuzz::check;
using splitstream::fuzz::ChunkSizes;

using splitstream::Ctp01Options;
using splitstream::Ctp01Protocol;
using splitstream::DecoderOutput;
using splitstream::TimeMs;

struct Tally {
  std::uint64_t persisted = 0;
  std::uint64_t malformed = 0;
};

void check_output(const DecoderOutput& out, Tally& tally) {
  for (const std::string& line : out.send) {
    check(line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0,
          "sent lines end in CR LF");
    check(line.find('\n') == line.size() - 1, "one line per send element");
  }
  tally.malformed += out.notices.malformed.size();
  if (!out.persist) return;
  check(!out.persist->reads.empty() || !out.persist->markers.empty(), "no empty batches");
  for (const auto& read : out.persist->reads) {
    check(!read.key.empty() && !read.source.empty() && !read.chip.empty(), "reads are complete");
    check(read.chip != "guntime" && read.chip != "newlocation", "special tags are not reads");
    check(read.key.compare(0, read.source.size() + 1, read.source + "~") == 0,
          "a read's key starts with its location");
  }
  for (const auto& marker : out.persist->markers)
    check(!marker.key.empty() && marker.label == "guntime", "markers are complete");
  tally.persisted += out.persist->reads.size() + out.persist->markers.size();
  check(out.persist->cursors.empty(), "CTP01 stores no cursors");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Ctp01Options options;
  static constexpr std::size_t kLineLimits[] = {16, 64, 1024, 4096};
  static constexpr std::size_t kQueueBounds[] = {1, 2, 5, 10'000};
  options.max_line_bytes = kLineLimits[data[0] & 3];
  options.max_queued_reads = kQueueBounds[(data[0] >> 2) & 3];
  options.push_ack = (data[0] & 0x10) != 0;
  options.start_wait_ms = (data[0] & 0x20) != 0 ? 0 : 5'000;
  ChunkSizes chunk_sizes(data[1]);
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);

  TimeMs now = 1'743'926'000'000;
  Ctp01Protocol protocol(options, now);
  Tally tally;
  bool closed = false;
  while (!rest.empty() && !closed) {
    now += static_cast<TimeMs>(chunk_sizes.next() % 7'000);
    if (!protocol.wants_bytes()) {
      check(protocol.queued_reads() >= options.max_queued_reads, "paused only when full");
      const bool in_flight = protocol.batch_in_flight();
      check(in_flight, "a full queue waits behind a batch in flight");
      const DecoderOutput out = protocol.on_persisted(now);
      check(out.persist.has_value(), "a full queue is released on on_persisted");
      check_output(out, tally);
      continue;
    }
    const std::size_t chunk = std::min(rest.size(), chunk_sizes.next());
    const bool was_in_flight = protocol.batch_in_flight();
    const DecoderOutput out = protocol.on_bytes(rest.substr(0, chunk), now);
    rest.remove_prefix(chunk);
    check(!(out.persist && was_in_flight), "one batch in flight");
    check(protocol.queued_reads() <= options.max_queued_reads + chunk, "the queue is bounded");
    check_output(out, tally);
    const DecoderOutput tick = protocol.on_tick(now);
    check(!tick.persist, "ticks store nothing");
    check_output(tick, tally);
    closed = out.close_after_send || tick.close_after_send;
    check(closed == protocol.closed(), "closing is reported");
  }
  if (!closed) {
    // Drain: everything accepted reaches the store.
    for (int rounds = 0; protocol.batch_in_flight(); ++rounds) {
      check(rounds < 3, "the queue drains in two batches at most");
      check_output(protocol.on_persisted(now), tally);
    }
    check(protocol.queued_reads() == 0, "nothing left queued");
    check(tally.persisted == protocol.stats().reads + protocol.stats().gun_times,
          "every accepted read is stored once");
  }
  check(tally.malformed == protocol.stats().malformed, "every malformed line is counted");
  if (closed) {
    check(!protocol.wants_bytes(), "closed wants no bytes");
    const DecoderOutput after = protocol.on_bytes("ping\r\n", now);
    check(after.send.empty() && !after.persist && !after.close_after_send, "closed is silent");
  }
  return 0;
}
