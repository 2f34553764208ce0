// Device session framing: Protobuf messages each preceded by their byte length as a base-128
// varint (protobuf's delimited format, see proto/splitstream/v1/device.proto).
//
// FrameDecoder is a state machine that does no I/O: the session feeds it the bytes it read and
// takes complete frames out, so it is tested with synthetic bytes alone. It buffers at most
// max_frame_bytes + 10 bytes (one largest frame and its longest length prefix), so a device
// cannot make the server hold more than that per connection, and it refuses an oversized frame
// as soon as the length prefix is complete, before any of its payload arrives.
//
// A zero-length frame is legal: it is the encoding of a message with no field set (what
// SerializeDelimitedTo writes for a default DeviceMessage), and framing stays unaware of
// message semantics. decode_device_message() turns it into a DeviceMessage whose body is
// BODY_NOT_SET, which the session refuses as a protocol violation like any frame without a body.
//
// Typical session loop (views returned by next() stay valid until the next feed()):
//
//   while (!input.empty()) {
//     input.remove_prefix(decoder.feed(input));
//     for (FrameResult r = decoder.next(); !r.need_more(); r = decoder.next()) {
//       if (r.error != FrameError::none) return close_with(r);  // sticky: decoder is done
//       handle(decode_device_message(r.payload));
//     }
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "splitstream/v1/device.pb.h"

namespace splitstream {

// The largest frame payload accepted unless configured otherwise: 1 MiB.
inline constexpr std::uint32_t kDefaultMaxFrameBytes = 1u << 20;
// A varint of a 64-bit value takes at most 10 bytes.
inline constexpr std::size_t kMaxVarintBytes = 10;

enum class FrameError : std::uint8_t {
  none,
  // The length prefix announces more than the decoder's max_frame_bytes.
  too_large,
  // The length prefix is longer than 10 bytes or its value overflows 64 bits.
  bad_varint,
};

std::string_view to_string(FrameError error);

enum class FrameStatus : std::uint8_t {
  need_more,  // no complete frame buffered: feed more bytes
  frame,      // `payload` holds one complete frame
  error,      // `error` says why; the stream cannot be resynchronised
};

struct FrameResult {
  FrameStatus status = FrameStatus::need_more;
  // status == frame: the payload, without its length prefix. Points into the decoder's buffer:
  // valid until the next feed() or the decoder's destruction.
  std::string_view payload;
  // status == error: why.
  FrameError error = FrameError::none;
  // error == too_large: the payload size the length prefix announced.
  std::uint64_t announced_bytes = 0;

  bool need_more() const { return status == FrameStatus::need_more; }
  bool is_frame() const { return status == FrameStatus::frame; }
  bool is_error() const { return status == FrameStatus::error; }
};

class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

  FrameDecoder(FrameDecoder&&) noexcept = default;
  FrameDecoder& operator=(FrameDecoder&&) noexcept = default;
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Appends as many of `bytes` as fit under the buffer bound and returns how many that was.
  // Fewer than offered only when next() has a frame (or an error) ready: take it, then feed the
  // rest. After an error it accepts nothing (returns 0) and frees the buffer. Invalidates payload
  // views.
  std::size_t feed(std::span<const std::byte> bytes);
  std::size_t feed(std::string_view bytes);

  // The next complete frame, need_more, or the error that stopped the stream (returned again on
  // every later call).
  FrameResult next();

  std::uint32_t max_frame_bytes() const { return max_frame_bytes_; }
  // Most bytes ever buffered: max_frame_bytes + kMaxVarintBytes.
  std::size_t buffer_limit() const { return buffer_limit_; }
  // Bytes fed and not yet consumed by next().
  std::size_t buffered_bytes() const { return end_ - begin_; }
  // Bytes allocated for the buffer; never above buffer_limit().
  std::size_t capacity_bytes() const { return capacity_; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State : std::uint8_t { length, payload, failed };

  // Makes room for `count` more bytes at the end of the buffer (count <= limit - buffered).
  void reserve_tail(std::size_t count);
  FrameResult fail(FrameError error, std::uint64_t announced_bytes);

  std::uint32_t max_frame_bytes_;
  std::size_t buffer_limit_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // first byte not yet consumed
  std::size_t end_ = 0;    // one past the last byte fed
  State state_ = State::length;
  std::size_t payload_bytes_ = 0;  // State::payload: size of the frame being collected
  FrameResult failure_;            // State::failed: returned by every next()
};

// Appends `message` as one frame (varint length, then the message) to `out`. Returns false,
// leaving `out` as it was, if the message cannot be serialised (over 2 GiB).
bool append_frame(const google::protobuf::MessageLite& message, std::string& out);
// `message` as one frame; empty if it cannot be serialised (a frame is never empty).
std::string encode_frame(const google::protobuf::MessageLite& message);

// Parses a frame payload as a DeviceMessage; nullopt if it is not valid protobuf wire format
// for one (protobuf rejects truncated fields, bad tags, invalid UTF-8 in strings, ...). A
// message without a body (including the zero-length frame) parses: the session checks
// body_case().
std::optional<splitstream::v1::DeviceMessage> decode_device_message(std::string_view payload);

}  // namespace splitstream
