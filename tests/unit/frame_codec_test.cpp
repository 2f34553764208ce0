// Device session framing with synthetic bytes: frames split anywhere, the size limit, bad length
// prefixes, garbage payloads and the buffer bound.
#include "ingest/frame_codec.hpp"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

namespace v1 = splitstream::v1;
using google::protobuf::util::MessageDifferencer;
using splitstream::decode_device_message;
using splitstream::encode_frame;
using splitstream::FrameDecoder;
using splitstream::FrameError;
using splitstream::FrameResult;
using splitstream::kDefaultMaxFrameBytes;

v1::DeviceMessage hello() {
  v1::DeviceMessage m;
  v1::Hello* h = m.mutable_hello();
  h->set_device_id("dec-finish-a");
  h->set_token("s3cret");
  h->set_software("acme-decoder/2.4.1");
  h->set_last_acked_seq(40);
  h->set_time_ms(1743894000000);
  return m;
}

v1::DeviceMessage batch(std::uint64_t first_seq, int count) {
  v1::DeviceMessage m;
  for (int i = 0; i < count; ++i) {
    v1::Read* r = m.mutable_batch()->add_reads();
    r->set_chip("E2801160600002086A1B2C" + std::to_string(i));
    r->set_time_ms(1743894000000 + i * 250);
    r->set_seq(first_seq + static_cast<std::uint64_t>(i));
    r->set_line(v1::LINE_BACKUP);
    r->set_rssi_dbm(-51 - i);
  }
  return m;
}

v1::DeviceMessage heartbeat() {
  v1::DeviceMessage m;
  m.mutable_heartbeat()->set_time_ms(1743894001000);
  return m;
}

// A session's worth of frames: small ones, an empty one, one with a 2-byte length prefix.
std::vector<v1::DeviceMessage> session_messages() {
  return {hello(), batch(41, 3), heartbeat(), v1::DeviceMessage(), batch(44, 12), heartbeat()};
}

std::string concatenated_frames(const std::vector<v1::DeviceMessage>& messages) {
  std::string stream;
  for (const v1::DeviceMessage& m : messages)
    stream += encode_frame(m);
  return stream;
}

// Takes every frame next() has ready (copied: views die at the next feed) until need_more.
void drain(FrameDecoder& decoder, std::vector<std::string>& frames) {
  for (FrameResult r = decoder.next(); !r.need_more(); r = decoder.next()) {
    ASSERT_TRUE(r.is_frame()) << "error " << splitstream::to_string(r.error);
    frames.emplace_back(r.payload);
  }
}

// Feeds all of `bytes`, taking frames out whenever the decoder cannot take more.
void feed_all(FrameDecoder& decoder, std::string_view bytes, std::vector<std::string>& frames) {
  while (!bytes.empty()) {
    bytes.remove_prefix(decoder.feed(bytes));
    drain(decoder, frames);
    ASSERT_LE(decoder.buffered_bytes(), decoder.buffer_limit());
  }
}

std::vector<std::string> serialized(const std::vector<v1::DeviceMessage>& messages) {
  std::vector<std::string> out;
  for (const v1::DeviceMessage& m : messages)
    out.push_back(m.SerializeAsString());
  return out;
}

TEST(FrameDecoderTest, SeveralFramesInOneBuffer) {
  const std::vector<v1::DeviceMessage> messages = session_messages();
  const std::string stream = concatenated_frames(messages);
  FrameDecoder decoder;
  ASSERT_EQ(decoder.feed(stream), stream.size());
  for (const v1::DeviceMessage& expected : messages) {
    const FrameResult r = decoder.next();
    ASSERT_TRUE(r.is_frame());
    const std::optional<v1::DeviceMessage> decoded = decode_device_message(r.payload);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_TRUE(MessageDifferencer::Equals(*decoded, expected)) << decoded->DebugString();
  }
  EXPECT_TRUE(decoder.next().need_more());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, FramesFedOneByteAtATimeAreTheSame) {
  const std::vector<v1::DeviceMessage> messages = session_messages();
  const std::string stream = concatenated_frames(messages);
  FrameDecoder decoder;
  std::vector<std::string> frames;
  for (char c : stream) {
    ASSERT_EQ(decoder.feed(std::string_view(&c, 1)), 1u);
    drain(decoder, frames);
  }
  EXPECT_EQ(frames, serialized(messages));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, FramesSplitAtEveryByteBoundaryAreTheSame) {
  const std::vector<v1::DeviceMessage> messages = session_messages();
  const std::string stream = concatenated_frames(messages);
  const std::vector<std::string> expected = serialized(messages);
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder decoder;
    std::vector<std::string> frames;
    feed_all(decoder, std::string_view(stream).substr(0, split), frames);
    feed_all(decoder, std::string_view(stream).substr(split), frames);
    ASSERT_EQ(frames, expected) << "split at byte " << split;
    ASSERT_TRUE(decoder.next().need_more());
  }
}

TEST(FrameDecoderTest, FrameExactlyAtTheLimitPasses) {
  // A Hello whose encoding is exactly 1 MiB: grow the software string until it fits.
  v1::DeviceMessage big;
  std::string software(kDefaultMaxFrameBytes - 16, 'x');
  big.mutable_hello()->set_software(software);
  while (big.ByteSizeLong() < kDefaultMaxFrameBytes) {
    software.push_back('x');
    big.mutable_hello()->set_software(software);
  }
  ASSERT_EQ(big.ByteSizeLong(), kDefaultMaxFrameBytes);
  const std::string frame = encode_frame(big) + encode_frame(heartbeat());

  FrameDecoder decoder;
  std::vector<std::string> frames;
  // In 64 KiB pieces, as a socket would deliver it.
  int growths = 0;
  std::size_t capacity = 0;
  for (std::size_t pos = 0; pos < frame.size(); pos += 65536) {
    feed_all(decoder, std::string_view(frame).substr(pos, 65536), frames);
    EXPECT_LE(decoder.capacity_bytes(), decoder.buffer_limit());
    if (decoder.capacity_bytes() != capacity) ++growths;
    capacity = decoder.capacity_bytes();
  }
  // Once the length is known the buffer grows to the whole payload at once, not by doubling.
  EXPECT_LE(growths, 3);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].size(), kDefaultMaxFrameBytes);
  const std::optional<v1::DeviceMessage> decoded = decode_device_message(frames[0]);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->hello().software(), software);
  EXPECT_EQ(decoder.buffer_limit(), kDefaultMaxFrameBytes + splitstream::kMaxVarintBytes);
}

TEST(FrameDecoderTest, OneByteOverTheLimitIsTooLargeBeforeThePayloadArrives) {
  std::string frame;
  // Only the length prefix of a (1 MiB + 1)-byte frame: 0x81 0x80 0x40.
  const std::uint64_t size = kDefaultMaxFrameBytes + 1;
  for (std::uint64_t v = size; v >= 0x80; v >>= 7)
    frame.push_back(static_cast<char>(v | 0x80));
  frame.push_back(static_cast<char>(size >> 14));
  ASSERT_EQ(frame, std::string("\x81\x80\x40", 3));

  FrameDecoder decoder;
  ASSERT_EQ(decoder.feed(frame.substr(0, 2)), 2u);
  EXPECT_TRUE(decoder.next().need_more());  // the prefix is not complete yet
  ASSERT_EQ(decoder.feed(frame.substr(2)), 1u);
  const FrameResult r = decoder.next();
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.error, FrameError::too_large);
  EXPECT_EQ(r.announced_bytes, size);
  // Sticky: the payload is never taken in, the error stays.
  EXPECT_EQ(decoder.feed(std::string(100, 'x')), 0u);
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.next().error, FrameError::too_large);
  EXPECT_EQ(decoder.capacity_bytes(), 0u);  // freed by the feed after the error
}

TEST(FrameDecoderTest, ConfiguredLimitApplies) {
  FrameDecoder decoder(100);
  EXPECT_EQ(decoder.max_frame_bytes(), 100u);
  std::string stream(1, 100);
  stream.append(100, 'a');
  stream.push_back(101);
  ASSERT_EQ(decoder.feed(stream), stream.size());
  const FrameResult first = decoder.next();
  ASSERT_TRUE(first.is_frame());
  EXPECT_EQ(first.payload, std::string(100, 'a'));
  const FrameResult second = decoder.next();
  EXPECT_EQ(second.error, FrameError::too_large);
  EXPECT_EQ(second.announced_bytes, 101u);
}

TEST(FrameDecoderTest, ElevenByteVarintIsBadVarint) {
  // Ten continuation bytes: the varint would need an 11th byte.
  const std::string prefix = std::string(10, '\x80') + '\x01';
  FrameDecoder decoder;
  ASSERT_EQ(decoder.feed(prefix.substr(0, 9)), 9u);
  EXPECT_TRUE(decoder.next().need_more());  // nine bytes: still a possible varint
  ASSERT_EQ(decoder.feed(prefix.substr(9)), 2u);
  const FrameResult r = decoder.next();
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.error, FrameError::bad_varint);
}

TEST(FrameDecoderTest, TenByteVarintOverflowing64BitsIsBadVarint) {
  FrameDecoder decoder;
  decoder.feed(std::string(9, '\xff') + '\x02');  // bit 64 set
  EXPECT_EQ(decoder.next().error, FrameError::bad_varint);
}

TEST(FrameDecoderTest, TenByteVarintWithinRangeIsJudgedBySize) {
  {
    // 2^63: a well-formed varint, far over the limit.
    FrameDecoder decoder;
    decoder.feed(std::string(9, '\x80') + '\x01');
    const FrameResult r = decoder.next();
    EXPECT_EQ(r.error, FrameError::too_large);
    EXPECT_EQ(r.announced_bytes, std::uint64_t{1} << 63);
  }
  {
    // A padded (non-minimal) encoding of 3, which protobuf accepts too.
    FrameDecoder decoder;
    decoder.feed(std::string("\x83") + std::string(8, '\x80') + '\x00' + "abc");
    const FrameResult r = decoder.next();
    ASSERT_TRUE(r.is_frame());
    EXPECT_EQ(r.payload, "abc");
  }
}

TEST(FrameDecoderTest, ZeroLengthFrameIsAnEmptyDeviceMessage) {
  FrameDecoder decoder;
  decoder.feed(std::string_view("\x00", 1));
  const FrameResult r = decoder.next();
  ASSERT_TRUE(r.is_frame());
  EXPECT_TRUE(r.payload.empty());
  const std::optional<v1::DeviceMessage> decoded = decode_device_message(r.payload);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->body_case(), v1::DeviceMessage::BODY_NOT_SET);
  EXPECT_EQ(encode_frame(v1::DeviceMessage()), std::string("\x00", 1));
}

TEST(FrameDecoderTest, GarbagePayloadIsNotADeviceMessage) {
  EXPECT_FALSE(decode_device_message("\xff\xff\xff\xff").has_value());  // invalid tag
  // Field 11 (batch), length 5, but only one byte follows.
  EXPECT_FALSE(decode_device_message(std::string("\x5a\x05\x0a", 3)).has_value());
  // Field 0 is never valid.
  EXPECT_FALSE(decode_device_message(std::string("\x00\x01", 2)).has_value());
  // Hello.device_id with invalid UTF-8 (proto3 strings must be UTF-8).
  v1::DeviceMessage bad_utf8;
  bad_utf8.mutable_hello()->set_device_id("ok");
  std::string wire = bad_utf8.SerializeAsString();
  wire[wire.size() - 1] = '\xff';
  {
    google::protobuf::LogSilencer quiet;  // protobuf logs each invalid UTF-8 string
    EXPECT_FALSE(decode_device_message(wire).has_value());
  }
  // A frame that decodes fine as a frame can still be garbage inside.
  FrameDecoder decoder;
  decoder.feed(std::string("\x04\xff\xff\xff\xff", 5));
  const FrameResult r = decoder.next();
  ASSERT_TRUE(r.is_frame());
  EXPECT_FALSE(decode_device_message(r.payload).has_value());
}

TEST(FrameDecoderTest, InterleavedFeedAndNext) {
  const std::string a = encode_frame(hello());
  const std::string b = encode_frame(batch(1, 2));
  FrameDecoder decoder;
  decoder.feed(std::string_view(a).substr(0, 5));
  EXPECT_TRUE(decoder.next().need_more());
  EXPECT_TRUE(decoder.next().need_more());  // asking again changes nothing
  decoder.feed(std::string_view(a).substr(5));
  decoder.feed(std::string_view(b).substr(0, 1));
  FrameResult r = decoder.next();
  ASSERT_TRUE(r.is_frame());
  EXPECT_EQ(r.payload, hello().SerializeAsString());
  EXPECT_TRUE(decoder.next().need_more());
  decoder.feed(std::string_view(b).substr(1));
  r = decoder.next();
  ASSERT_TRUE(r.is_frame());
  EXPECT_EQ(r.payload, batch(1, 2).SerializeAsString());
  EXPECT_TRUE(decoder.next().need_more());
}

TEST(FrameDecoderTest, ViewsStayValidUntilTheNextFeed) {
  const std::string stream = encode_frame(hello()) + encode_frame(heartbeat());
  FrameDecoder decoder;
  decoder.feed(stream);
  const std::string_view first = decoder.next().payload;
  const std::string_view second = decoder.next().payload;
  EXPECT_EQ(first, hello().SerializeAsString());
  EXPECT_EQ(second, heartbeat().SerializeAsString());
}

TEST(FrameDecoderTest, BufferStaysBoundedAndFeedTakesOnlyWhatFits) {
  // 50-byte frames with a 64-byte limit: a 4 KiB read holds many, more than the bound.
  FrameDecoder decoder(64);
  std::string stream;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    std::string payload(50, static_cast<char>('a' + i % 26));
    stream.push_back(50);
    stream += payload;
    expected.push_back(std::move(payload));
  }
  std::string_view rest(stream);
  std::vector<std::string> frames;
  std::size_t short_feeds = 0;
  while (!rest.empty()) {
    const std::size_t offered = std::min<std::size_t>(rest.size(), 4096);
    const std::size_t taken = decoder.feed(rest.substr(0, offered));
    ASSERT_GT(taken, 0u);  // never stuck: drain() below always makes room
    if (taken < offered) ++short_feeds;
    ASSERT_LE(decoder.buffered_bytes(), decoder.buffer_limit());
    ASSERT_LE(decoder.capacity_bytes(), decoder.buffer_limit());
    rest.remove_prefix(taken);
    drain(decoder, frames);
  }
  EXPECT_EQ(frames, expected);
  EXPECT_GT(short_feeds, 0u);
  EXPECT_EQ(decoder.buffer_limit(), 64u + 10u);
}

TEST(FrameDecoderTest, FullBufferAlwaysHoldsAFrameOrAnError) {
  // The bound never deadlocks: when feed() takes nothing, next() has something.
  FrameDecoder decoder(20);
  std::string stream(1, 20);
  stream.append(20, 'z');
  stream.append(stream);
  EXPECT_EQ(decoder.feed(stream), 30u);
  EXPECT_EQ(decoder.feed(stream), 0u);
  EXPECT_TRUE(decoder.next().is_frame());
  EXPECT_EQ(decoder.feed(std::string_view(stream).substr(30)), 12u);
  EXPECT_TRUE(decoder.next().is_frame());
  EXPECT_TRUE(decoder.next().need_more());
}

TEST(FrameCodecTest, EncodeFrameMatchesProtobufDelimitedFormat) {
  for (const v1::DeviceMessage& m : session_messages()) {
    std::ostringstream delimited;
    ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(m, &delimited));
    EXPECT_EQ(encode_frame(m), delimited.str());
  }
  // append_frame adds to what is there, for a single write of several frames.
  v1::ServerMessage ack;
  ack.mutable_ack()->set_acked_seq(43);
  std::string out = "prefix";
  ASSERT_TRUE(splitstream::append_frame(ack, out));
  EXPECT_EQ(out, "prefix" + encode_frame(ack));
}

}  // namespace
