// libFuzzer target: MylapsProtocol on arbitrary bytes, fed in chunk sizes drawn from the input.
//
// Input: byte 0 picks the options (version, frame limit, queue bound), byte 1 seeds the chunk
// sizes and the interleaving of on_persisted/on_tick, the rest is the stream from the exporter.
// Invariants (abort on violation, so libFuzzer reports it):
//   * chunking does not matter: fed whole, or in chunks with every batch persisted at once, the
//     same record keys are stored, the same frames are sent (as a multiset) and as many
//     malformed notices are given;
//   * one batch in flight at a time; no key is persisted twice on a connection;
//   * the queue never exceeds its bound; every frame sent is `Splitstream@...@$`;
//   * a closed protocol produces nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/mylaps_fsm.hpp"
#include "fuzz_support.hpp"

namespace {

using splitstream::fuzz::check;

using splitstream::DecoderOutput;
using splitstream::MylapsOptions;
using splitstream::MylapsProtocol;
using splitstream::MylapsVersion;
using splitstream::TimeMs;

constexpr std::size_t kMaxFrameChoices[] = {16, 64, 300, 64 * 1024};
constexpr std::size_t kMaxQueuedChoices[] = {0, 1, 3, 64};

class Rng {
 public:
  explicit Rng(std::uint8_t seed) : state_(0x9E3779B97F4A7C15ull ^ seed) {}
  std::uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  std::uint64_t state_;
};

struct Observed {
  std::multiset<std::string> sent;
  std::set<std::string> keys;
  std::size_t malformed = 0;
  bool in_flight = false;
};

void take(DecoderOutput& out, const MylapsProtocol& protocol, Observed& seen) {
  for (const std::string& frame : out.send) {
    check(frame.starts_with("Splitstream@") && frame.ends_with("@$"), "sent frames are framed");
    seen.sent.insert(frame);
  }
  seen.malformed += out.notices.malformed.size();
  if (out.persist) {
    check(!seen.in_flight, "one batch in flight");
    seen.in_flight = true;
    std::size_t keys = 0;
    for (const auto& read : out.persist->reads) {
      check(seen.keys.insert(read.key).second, "a key is persisted once per connection");
      ++keys;
    }
    for (const auto& marker : out.persist->markers) {
      check(seen.keys.insert(marker.key).second, "a key is persisted once per connection");
      ++keys;
    }
    check(keys > 0, "a batch holds something");
  }
  check(protocol.queued_messages() <= protocol.options().max_queued_messages,
        "the queue is bounded");
}

// Persists until nothing is left in flight.
void drain(MylapsProtocol& protocol, Observed& seen, TimeMs now) {
  while (seen.in_flight) {
    seen.in_flight = false;
    DecoderOutput out = protocol.on_persisted(now);
    take(out, protocol, seen);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  MylapsOptions options;
  options.version = (data[0] & 1) != 0 ? MylapsVersion::v1 : MylapsVersion::v2;
  options.max_frame_bytes = kMaxFrameChoices[(data[0] >> 1) % std::size(kMaxFrameChoices)];
  options.ack_messages_with_bad_records = (data[0] & 0x08) == 0;
  options.rssi_key = (data[0] & 0x10) != 0 ? "rs" : "";
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  constexpr TimeMs kT0 = 1'744'524'000'000;

  // Reference: everything at once, an unbounded queue, persisted at the end.
  MylapsOptions unbounded = options;
  unbounded.max_queued_messages = 1'000'000;
  Observed whole;
  {
    MylapsProtocol protocol(unbounded, kT0);
    DecoderOutput out = protocol.on_bytes(stream, kT0);
    take(out, protocol, whole);
    drain(protocol, whole, kT0);
  }
  // Chunked, every batch persisted as soon as it is asked for.
  Rng rng(data[1]);
  Observed chunked;
  {
    MylapsProtocol protocol(unbounded, kT0);
    std::string_view rest = stream;
    while (!rest.empty()) {
      const std::size_t n = std::min<std::size_t>(rest.size(), 1 + rng.next() % 17);
      DecoderOutput out = protocol.on_bytes(rest.substr(0, n), kT0);
      rest.remove_prefix(n);
      take(out, protocol, chunked);
      drain(protocol, chunked, kT0);
    }
  }
  check(whole.keys == chunked.keys, "chunking stores the same keys");
  check(whole.sent == chunked.sent, "chunking sends the same frames");
  check(whole.malformed == chunked.malformed, "chunking reports the same malformed count");

  // Bounded queue, ticks and persistence interleaved by the input; a store error maybe.
  options.max_queued_messages = kMaxQueuedChoices[(data[0] >> 5) % std::size(kMaxQueuedChoices)];
  MylapsProtocol protocol(options, kT0);
  Observed seen;
  TimeMs now = kT0;
  std::string_view rest = stream;
  while (!rest.empty() && !protocol.closed()) {
    const std::size_t n = std::min<std::size_t>(rest.size(), 1 + rng.next() % 23);
    DecoderOutput out = protocol.on_bytes(rest.substr(0, n), now);
    rest.remove_prefix(n);
    take(out, protocol, seen);
    const std::uint64_t action = rng.next() % 16;
    now += static_cast<TimeMs>(rng.next() % 20'000);
    if (action < 6 && seen.in_flight) {
      seen.in_flight = false;
      out = protocol.on_persisted(now);
      take(out, protocol, seen);
    } else if (action == 6 && seen.in_flight) {
      out = protocol.on_store_error("fuzz", now);
      check(out.close_after_send && out.send.empty(), "a store error closes without acking");
    } else if (action < 10) {
      out = protocol.on_tick(now);
      take(out, protocol, seen);
    }
  }
  if (protocol.closed()) {
    check(!protocol.wants_bytes(), "closed wants nothing");
    DecoderOutput out = protocol.on_bytes(stream, now);
    check(out.send.empty() && !out.persist && out.notices.malformed.empty(),
          "closed produces nothing");
    out = protocol.on_persisted(now);
    check(out.send.empty() && !out.persist, "closed produces nothing");
  }
  return 0;
}
