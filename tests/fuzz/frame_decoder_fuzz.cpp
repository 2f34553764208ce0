// libFuzzer target: FrameDecoder on arbitrary bytes, fed in chunk sizes drawn from the input.
//
// Input: byte 0 picks the max frame size, byte 1 seeds the chunk sizes, the rest is the stream.
// Invariants (abort on violation, so libFuzzer reports it):
//   * the incremental decoder yields exactly what a whole-buffer reference parse yields: the
//     same frames, then the same error or need_more, whatever the chunking;
//   * the buffer never exceeds max_frame + 10 bytes, and feed() taking nothing means next()
//     has a frame or an error (the bound never deadlocks);
//   * errors are sticky;
//   * a frame that decodes as a DeviceMessage, re-encoded and decoded again, is the same message.
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "ingest/frame_codec.hpp"

namespace {

using splitstream::fuzz::check;
using splitstream::fuzz::ChunkSizes;

using splitstream::FrameDecoder;
using splitstream::FrameError;
using splitstream::FrameResult;

// Small limits reach too_large with small inputs; 1 MiB is the production default.
constexpr std::uint32_t kMaxFrameChoices[] = {0, 1, 5, 127, 128, 300, 4096, 1u << 20};

struct Outcome {
  std::vector<std::string> frames;
  FrameError error = FrameError::none;
  std::uint64_t announced_bytes = 0;
};

// The reference: the delimited format read straight off the complete buffer.
Outcome reference_parse(std::string_view stream, std::uint32_t max_frame) {
  Outcome out;
  std::size_t pos = 0;
  for (;;) {
    std::uint64_t length = 0;
    std::size_t used = 0;
    bool complete = false;
    while (!complete && pos + used < stream.size()) {
      const auto byte = static_cast<unsigned char>(stream[pos + used]);
      if (used == 9 && byte > 1) {
        out.error = FrameError::bad_varint;
        return out;
      }
      length |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * used);
      complete = (byte & 0x80) == 0;
      ++used;
    }
    if (!complete) return out;
    if (length > max_frame) {
      out.error = FrameError::too_large;
      out.announced_bytes = length;
      return out;
    }
    if (stream.size() - pos - used < length) return out;
    out.frames.emplace_back(stream.substr(pos + used, static_cast<std::size_t>(length)));
    pos += used + static_cast<std::size_t>(length);
  }
}

void check_round_trip(std::string_view payload) {
  const std::optional<splitstream::v1::DeviceMessage> message =
      splitstream::decode_device_message(payload);
  if (!message) return;
  const std::string frame = splitstream::encode_frame(*message);
  check(!frame.empty(), "a decoded message encodes");
  FrameDecoder again;
  check(again.feed(frame) == frame.size(), "a re-encoded frame fits");
  const FrameResult r = again.next();
  check(r.is_frame(), "a re-encoded frame decodes as a frame");
  check(again.next().need_more(), "a re-encoded frame is one frame");
  check(r.payload == message->SerializeAsString(), "frame payload is the serialised message");
  const std::optional<splitstream::v1::DeviceMessage> back =
      splitstream::decode_device_message(r.payload);
  check(back.has_value(), "a re-encoded message decodes");
  check(back->SerializeAsString() == r.payload, "the message round-trips");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in a string field makes protobuf log an error per parse: keep the output
  // readable (decode_device_message still returns nullopt).
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint32_t max_frame = kMaxFrameChoices[data[0] % std::size(kMaxFrameChoices)];
  ChunkSizes chunk_sizes(data[1]);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Outcome expected = reference_parse(stream, max_frame);

  FrameDecoder decoder(max_frame);
  Outcome got;
  std::string_view rest = stream;
  bool stopped = false;
  while (!rest.empty() && !stopped) {
    const std::size_t offered = std::min(rest.size(), chunk_sizes.next());
    const std::size_t taken = decoder.feed(rest.substr(0, offered));
    check(taken <= offered, "feed takes at most what is offered");
    check(decoder.buffered_bytes() <= decoder.buffer_limit(), "buffered bytes stay bounded");
    check(decoder.capacity_bytes() <= decoder.buffer_limit(), "buffer capacity stays bounded");
    rest.remove_prefix(taken);
    bool produced = false;
    for (FrameResult r = decoder.next(); !r.need_more(); r = decoder.next()) {
      produced = true;
      if (r.is_error()) {
        check(r.error != FrameError::none, "an error names its cause");
        got.error = r.error;
        got.announced_bytes = r.announced_bytes;
        stopped = true;
        break;
      }
      check(r.payload.size() <= max_frame, "frames respect the limit");
      got.frames.emplace_back(r.payload);
    }
    check(taken > 0 || produced, "a full buffer always holds a frame or an error");
  }
  if (!stopped) {
    // Everything fed: whatever is left is an incomplete frame.
    check(decoder.next().need_more(), "need_more at the end of a clean stream");
  } else {
    check(decoder.failed(), "the decoder knows it failed");
    check(decoder.next().error == got.error, "errors are sticky");
    check(decoder.feed(std::string_view("x")) == 0, "nothing is taken after an error");
    check(decoder.capacity_bytes() == 0, "the buffer is freed after an error");
  }

  check(got.frames == expected.frames, "chunked frames equal the reference frames");
  check(got.error == expected.error, "chunked error equals the reference error");
  check(got.announced_bytes == expected.announced_bytes, "announced size equals the reference");

  for (const std::string& frame : got.frames)
    check_round_trip(frame);
  return 0;
}
