// libFuzzer target: ClientFrameReader (what a viewer's browser sends over the WebSocket) on
// arbitrary bytes, fed in chunk sizes drawn from the input, half through append() and half
// through prepare()/commit() with more room than arrives.
//
// Input: byte 0 seeds the chunk sizes, byte 1 picks the message limit, the rest is the stream.
// Invariants (abort on violation, so libFuzzer reports it):
//   * a message is never over the limit; a text message is valid UTF-8;
//   * a control frame's payload (ping, pong, close reason) is at most 125 bytes;
//   * the bytes held never exceed twice the limit (the message handed out, the next one under
//     way) plus what one read brought;
//   * an error carries a close code and a reason, and after a close or an error nothing follows;
//   * the same bytes in one piece give the same events.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "push/websocket_fsm.hpp"

namespace {

using splitstream::fuzz::check;
using splitstream::fuzz::ChunkSizes;
using splitstream::ws::ClientEvent;
using splitstream::ws::ClientFrameReader;

struct Seen {
  ClientEvent::Kind kind;
  std::string payload;
  std::uint16_t code;
  bool operator==(const Seen&) const = default;
};

void drain(ClientFrameReader& reader, std::size_t limit, std::vector<Seen>& seen, bool& ended) {
  for (ClientEvent e = reader.next(); e.kind != ClientEvent::Kind::none; e = reader.next()) {
    check(!ended, "an event after a close or an error");
    switch (e.kind) {
      case ClientEvent::Kind::text:
        check(splitstream::ws::valid_utf8(e.payload), "a text message that is not UTF-8");
        [[fallthrough]];
      case ClientEvent::Kind::binary:
        check(e.payload.size() <= limit, "a message over the limit");
        break;
      case ClientEvent::Kind::ping:
      case ClientEvent::Kind::pong:
        check(e.payload.size() <= 125, "a control payload over 125 bytes");
        break;
      case ClientEvent::Kind::close:
        check(e.payload.size() <= 123, "a close reason over 123 bytes");
        ended = true;
        break;
      case ClientEvent::Kind::error:
        check(e.code >= 1000 && !e.reason.empty(), "an error without a code or a reason");
        ended = true;
        break;
      case ClientEvent::Kind::none:
        break;
    }
    seen.push_back({e.kind, std::string(e.payload), e.code});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ChunkSizes chunks(data[0]);
  const std::size_t limit = static_cast<std::size_t>(data[1]) * 16;
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  ClientFrameReader reader(limit);
  std::vector<Seen> seen;
  bool ended = false;
  bool by_append = true;
  for (std::size_t at = 0; at < input.size();) {
    const std::size_t n = std::min(chunks.next(), input.size() - at);
    const std::string_view piece = input.substr(at, n);
    if (by_append) {
      reader.append(piece);
    } else {
      char* room = reader.prepare(n + 5);
      std::memcpy(room, piece.data(), n);
      reader.commit(n);
    }
    by_append = !by_append;
    at += n;
    // The message handed out last (until the next call), the next one's start and the read.
    check(reader.buffered() <= 2 * limit + n + 14 + 2 * 131,
          "more bytes held than the limit allows");
    drain(reader, limit, seen, ended);
  }

  ClientFrameReader whole(limit);
  whole.append(input);
  std::vector<Seen> at_once;
  bool ended_at_once = false;
  drain(whole, limit, at_once, ended_at_once);
  check(seen == at_once, "the events depend on how the bytes were split");
  return 0;
}
