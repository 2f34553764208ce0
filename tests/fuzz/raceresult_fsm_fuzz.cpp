// libFuzzer target: RaceResultProtocol after on_connected, fed arbitrary decoder bytes in chunk
// sizes drawn from the input, with the clock ticking between chunks and every batch stored at
// once (on_persisted whenever persist is asked).
//
// Input: byte 0 picks the options (chunk size, queue bound, PING policy, range syntax, stored
// cursors), byte 1 seeds the chunk sizes, the rest is what the decoder sends.
// Invariants (abort on violation, so libFuzzer reports it):
//   * no crash, no leak, no undefined behaviour;
//   * every command written ends in CR LF and holds no other line break;
//   * no key is persisted twice in one session, every key is "<file>/<number>" with number > 0;
//   * a batch's cursor for a file never goes back, and every passing from the old cursor up to
//     the new one is in this or an earlier batch (cursors move contiguously);
//   * reads wait in a bounded queue: never over the bound plus one fed chunk's worth of lines;
//   * once closed, every call returns nothing to do.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "adapters/raceresult_fsm.hpp"
#include "fuzz_support.hpp"

namespace {

using splitstream::fuzz::check;
using splitstream::fuzz::ChunkSizes;

using splitstream::DecoderBatch;
using splitstream::DecoderOutput;
using splitstream::RaceResultOptions;
using splitstream::RaceResultProtocol;
using splitstream::TimeMs;

struct Store {
  std::map<std::uint32_t, std::uint64_t> cursors;
  std::map<std::uint32_t, std::set<std::uint64_t>> numbers;  // persisted this session
  std::set<std::string> keys;
};

void check_send(const DecoderOutput& out) {
  for (const std::string& line : out.send) {
    check(line.size() >= 2 && line.substr(line.size() - 2) == "\r\n", "commands end in CR LF");
    check(line.find_first_of("\r\n") == line.size() - 2, "one line per command");
  }
}

void store_batch(const DecoderBatch& batch, Store& store) {
  auto note_key = [&](const std::string& key) {
    check(store.keys.insert(key).second, "no key persisted twice in a session");
    const std::size_t slash = key.find('/');
    check(slash != std::string::npos && slash > 0, "key is <file>/<number>");
    const std::uint32_t file = static_cast<std::uint32_t>(std::stoul(key.substr(0, slash)));
    const std::uint64_t number = std::stoull(key.substr(slash + 1));
    check(number > 0, "passing numbers are positive");
    store.numbers[file].insert(number);
  };
  for (const auto& read : batch.reads)
    note_key(read.key);
  for (const auto& marker : batch.markers)
    note_key(marker.key);
  for (const auto& [name, value] : batch.cursors) {
    check(name.rfind("cursor:", 0) == 0, "cursor names are cursor:<file>");
    const std::uint32_t file = static_cast<std::uint32_t>(std::stoul(name.substr(7)));
    const std::uint64_t old = store.cursors[file];
    check(value > old, "a cursor entry moves its cursor forward");
    const std::set<std::uint64_t>& have = store.numbers[file];
    check(value - old <= have.size(), "a cursor covers only passings stored");
    for (std::uint64_t n = old + 1; n <= value; ++n)
      check(have.count(n) == 1, "cursors move contiguously");
    store.cursors[file] = value;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t choice = data[0];
  ChunkSizes chunk_sizes(data[1]);
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  RaceResultOptions options;
  options.fetch_chunk = 1u + (choice & 3u);
  options.max_queued_reads = 1u + ((choice >> 2) & 7u);
  options.max_batch_reads = 1u + ((choice >> 2) & 3u);
  options.ping_expects_reply = (choice & 0x20) == 0;
  options.range_syntax = (choice & 0x40) != 0 ? RaceResultOptions::RangeSyntax::from_to
                                              : RaceResultOptions::RangeSyntax::from_count;
  options.start_operation = (choice & 0x80) != 0;
  options.max_line_bytes = 512;
  Store store;
  if ((choice & 0x10) != 0) store.cursors = {{1, 3}, {2, 10}};

  TimeMs now = 1'000'000;
  RaceResultProtocol rr(options, store.cursors, now);
  bool closed = false;
  auto handle = [&](DecoderOutput out) {
    for (int guard = 0; guard < 100000; ++guard) {
      check_send(out);
      if (closed) check(out.send.empty() && !out.persist, "nothing to do once closed");
      if (out.close_after_send) {
        check(!out.close_reason.empty(), "a close says why");
        closed = true;
        check(rr.closed() && !rr.wants_bytes(), "closed means closed");
      }
      if (!out.persist) return;
      store_batch(*out.persist, store);
      out = rr.on_persisted(now);
    }
    check(false, "persisting ends");
  };

  handle(rr.on_connected(now));
  while (!stream.empty()) {
    const std::size_t take = std::min(stream.size(), chunk_sizes.next());
    handle(rr.on_bytes(stream.substr(0, take), now));
    check(rr.closed() || (rr.queued_reads() == 0 && !rr.batch_in_flight() && rr.wants_bytes()),
          "with the store keeping up, no read waits");
    stream.remove_prefix(take);
    now += static_cast<TimeMs>(chunk_sizes.raw() % 20'000);
    handle(rr.on_tick(now));
  }
  handle(rr.on_store_error("fuzz", now));
  check(rr.closed(), "a store error closes");
  return 0;
}
