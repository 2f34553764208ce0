#include "ingest/frame_codec.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

namespace splitstream {
namespace {

// First allocation: enough for typical frames (a Hello, a batch of a few dozen reads) without
// reserving a whole max-size frame for every connection up front.
constexpr std::size_t kInitialCapacity = 4096;

std::size_t write_varint(std::uint64_t value, unsigned char* out) {
  std::size_t n = 0;
  while (value >= 0x80) {
    out[n++] = static_cast<unsigned char>(value | 0x80);
    value >>= 7;
  }
  out[n++] = static_cast<unsigned char>(value);
  return n;
}

}  // namespace

std::string_view to_string(FrameError error) {
  switch (error) {
    case FrameError::none:
      return "none";
    case FrameError::too_large:
      return "too_large";
    case FrameError::bad_varint:
      return "bad_varint";
  }
  return "unknown";
}

FrameDecoder::FrameDecoder(std::uint32_t max_frame_bytes)
    : max_frame_bytes_(max_frame_bytes),
      buffer_limit_(static_cast<std::size_t>(max_frame_bytes) + kMaxVarintBytes) {}

std::size_t FrameDecoder::feed(std::string_view bytes) {
  return feed(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

std::size_t FrameDecoder::feed(std::span<const std::byte> bytes) {
  if (state_ == State::failed) {
    // The stream is dead: free the buffer now (feed() may invalidate views) and take nothing.
    buffer_.reset();
    capacity_ = begin_ = end_ = 0;
    return 0;
  }
  if (bytes.empty()) return 0;
  if (begin_ == end_) begin_ = end_ = 0;  // everything consumed: rewinding is free
  const std::size_t count = std::min(bytes.size(), buffer_limit_ - buffered_bytes());
  if (count == 0) return 0;
  reserve_tail(count);
  std::memcpy(buffer_.get() + end_, bytes.data(), count);
  end_ += count;
  return count;
}

void FrameDecoder::reserve_tail(std::size_t count) {
  if (capacity_ - end_ >= count) return;
  const std::size_t live = end_ - begin_;
  if (capacity_ - live >= count) {
    // Compact lazily: only when the tail is too short, so a run of small frames costs no moves.
    std::memmove(buffer_.get(), buffer_.get() + begin_, live);
  } else {
    // Grow geometrically, never past the bound (live + count <= buffer_limit_ by feed()). While
    // collecting a payload its size is known: room for all of it now saves regrowing per read.
    const std::size_t whole_payload = state_ == State::payload ? payload_bytes_ : 0;
    const std::size_t wanted = std::min(
        std::max({live + count, capacity_ * 2, kInitialCapacity, whole_payload}), buffer_limit_);
    auto bigger = std::make_unique_for_overwrite<char[]>(wanted);
    if (live > 0) std::memcpy(bigger.get(), buffer_.get() + begin_, live);
    buffer_ = std::move(bigger);
    capacity_ = wanted;
  }
  begin_ = 0;
  end_ = live;
}

FrameResult FrameDecoder::fail(FrameError error, std::uint64_t announced_bytes) {
  state_ = State::failed;
  failure_.status = FrameStatus::error;
  failure_.error = error;
  failure_.announced_bytes = announced_bytes;
  return failure_;
}

FrameResult FrameDecoder::next() {
  switch (state_) {
    case State::failed:
      return failure_;
    case State::length: {
      // Re-scans at most 10 bytes per call: simpler than keeping a partial varint across feeds.
      const auto* bytes = reinterpret_cast<const unsigned char*>(buffer_.get()) + begin_;
      const std::size_t available = std::min(end_ - begin_, kMaxVarintBytes);
      std::uint64_t length = 0;
      std::size_t used = 0;
      bool complete = false;
      while (used < available && !complete) {
        const unsigned byte = bytes[used];
        // The 10th byte holds only bit 63: anything more is an 11th byte or an overflow.
        if (used == kMaxVarintBytes - 1 && byte > 1) return fail(FrameError::bad_varint, 0);
        length |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * used);
        complete = (byte & 0x80) == 0;
        ++used;
      }
      if (!complete) return FrameResult{};
      if (length > max_frame_bytes_) return fail(FrameError::too_large, length);
      begin_ += used;
      payload_bytes_ = static_cast<std::size_t>(length);
      state_ = State::payload;
      [[fallthrough]];
    }
    case State::payload: {
      if (end_ - begin_ < payload_bytes_) return FrameResult{};
      FrameResult frame;
      frame.status = FrameStatus::frame;
      if (payload_bytes_ > 0)
        frame.payload = std::string_view(buffer_.get() + begin_, payload_bytes_);
      begin_ += payload_bytes_;
      state_ = State::length;
      return frame;
    }
  }
  return failure_;
}

bool append_frame(const google::protobuf::MessageLite& message, std::string& out) {
  const std::size_t size = message.ByteSizeLong();
  if (size > static_cast<std::size_t>(INT_MAX)) return false;
  unsigned char prefix[kMaxVarintBytes];
  const std::size_t prefix_size = write_varint(size, prefix);
  const std::size_t old_size = out.size();
  out.resize(old_size + prefix_size + size);
  auto* dest = reinterpret_cast<unsigned char*>(out.data() + old_size);
  std::memcpy(dest, prefix, prefix_size);
  // ByteSizeLong() just cached the sizes, so this serialises without measuring again.
  const unsigned char* end = message.SerializeWithCachedSizesToArray(dest + prefix_size);
  if (end != dest + prefix_size + size) {
    out.resize(old_size);
    return false;
  }
  return true;
}

std::string encode_frame(const google::protobuf::MessageLite& message) {
  std::string frame;
  if (!append_frame(message, frame)) frame.clear();
  return frame;
}

std::optional<splitstream::v1::DeviceMessage> decode_device_message(std::string_view payload) {
  splitstream::v1::DeviceMessage message;
  if (payload.empty()) return message;
  if (payload.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
  if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return std::nullopt;
  }
  return message;
}

}  // namespace splitstream
