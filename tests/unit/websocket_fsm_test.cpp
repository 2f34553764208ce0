// The server's side of RFC 6455 without sockets: the accept key, server frames, and the reader
// of a client's bytes, fed literal frames (the RFC's own examples among them), whole and byte
// by byte.
#include "push/websocket_fsm.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace splitstream::ws {
namespace {

using Kind = ClientEvent::Kind;

std::string bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values)
    out += static_cast<char>(v);
  return out;
}

// A client frame: masked with `mask`, `fin` and `opcode` as given.
std::string client_frame(unsigned first_byte, std::string_view payload,
                         std::array<unsigned char, 4> mask = {0x37, 0xfa, 0x21, 0x3d}) {
  std::string out;
  out += static_cast<char>(first_byte);
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xffff) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((payload.size() >> shift) & 0xff);
  }
  for (unsigned char m : mask)
    out += static_cast<char>(m);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
  return out;
}

struct Seen {
  Kind kind;
  std::string payload;
  std::uint16_t code = 0;
  std::string reason;
};

// Every event in `input`, fed in pieces of `piece` bytes (0: all at once).
std::vector<Seen> read_all(const std::string& input, std::size_t piece = 0,
                           std::size_t limit = 1024) {
  ClientFrameReader reader(limit);
  std::vector<Seen> seen;
  auto drain = [&] {
    for (ClientEvent e = reader.next(); e.kind != Kind::none; e = reader.next())
      seen.push_back({e.kind, std::string(e.payload), e.code, e.reason});
  };
  if (piece == 0) {
    reader.append(input);
    drain();
  } else {
    for (std::size_t i = 0; i < input.size(); i += piece) {
      // Half through append, half through prepare/commit with more room than comes.
      const std::string_view chunk = std::string_view(input).substr(i, piece);
      if ((i / piece) % 2 == 0) {
        reader.append(chunk);
      } else {
        char* room = reader.prepare(chunk.size() + 7);
        std::copy(chunk.begin(), chunk.end(), room);
        reader.commit(chunk.size());
      }
      drain();
    }
  }
  return seen;
}

TEST(WebSocketFsm, TheAcceptKeyIsTheRfcsExample) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(valid_client_key(""));
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));    // no padding
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZSE="));  // 17 bytes
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j*Q=="));  // not base64
}

TEST(WebSocketFsm, ServerFramesAreUnmaskedWithTheShortestLength) {
  // RFC 6455 section 5.7: an unmasked "Hello".
  EXPECT_EQ(server_frame(Opcode::text, "Hello"), bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(server_frame(Opcode::pong, ""), bytes({0x8a, 0x00}));
  const std::string medium = server_frame(Opcode::binary, std::string(256, 'x'));
  EXPECT_EQ(medium.substr(0, 4), bytes({0x82, 0x7e, 0x01, 0x00}));  // 256 in 16 bits
  EXPECT_EQ(medium.size(), 4u + 256);
  const std::string large = server_frame(Opcode::binary, std::string(65536, 'x'));
  EXPECT_EQ(large.substr(0, 10), bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(server_frame(Opcode::binary, std::string(125, 'x'))[1], 125);
}

TEST(WebSocketFsm, ACloseFrameCarriesItsCodeAndAReasonCutOnACharacter) {
  EXPECT_EQ(close_frame(1013, "slow"), bytes({0x88, 0x06, 0x03, 0xf5, 's', 'l', 'o', 'w'}));
  // 122 ASCII bytes, then a 3-byte character that would end past 123: left out whole.
  const std::string reason = std::string(122, 'a') + "\xe2\x82\xac";
  const std::string frame = close_frame(1000, reason);
  EXPECT_EQ(static_cast<unsigned char>(frame[1]), 2u + 122);
  EXPECT_TRUE(valid_utf8(frame.substr(4)));
}

TEST(WebSocketFsm, TheRfcsMaskedHelloIsOneTextMessage) {
  // RFC 6455 section 5.7: a masked "Hello".
  const std::string hello =
      bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  for (std::size_t piece : {0u, 1u, 3u}) {
    const auto seen = read_all(hello, piece);
    ASSERT_EQ(seen.size(), 1u) << piece;
    EXPECT_EQ(seen[0].kind, Kind::text);
    EXPECT_EQ(seen[0].payload, "Hello");
  }
}

TEST(WebSocketFsm, FragmentsJoinAndControlFramesMayComeBetweenThem) {
  // "Hel" (text, not FIN), a ping, "lo" (continuation, FIN), then a binary message whose
  // length takes 16 bits, then a close with code 1000 and a reason.
  const std::string big(300, 'b');
  const std::string input = client_frame(0x01, "Hel") + client_frame(0x89, "are you there") +
                            client_frame(0x80, "lo") + client_frame(0x82, big) +
                            client_frame(0x88, bytes({0x03, 0xe8}) + "bye");
  for (std::size_t piece : {0u, 1u, 2u, 5u, 64u}) {
    const auto seen = read_all(input, piece);
    ASSERT_EQ(seen.size(), 4u) << piece;
    EXPECT_EQ(seen[0].kind, Kind::ping);
    EXPECT_EQ(seen[0].payload, "are you there");
    EXPECT_EQ(seen[1].kind, Kind::text);
    EXPECT_EQ(seen[1].payload, "Hello");
    EXPECT_EQ(seen[2].kind, Kind::binary);
    EXPECT_EQ(seen[2].payload, big);
    EXPECT_EQ(seen[3].kind, Kind::close);
    EXPECT_EQ(seen[3].code, 1000);
    EXPECT_EQ(seen[3].payload, "bye");
  }
}

TEST(WebSocketFsm, NothingIsReadAfterAClose) {
  const auto seen = read_all(client_frame(0x88, "") + client_frame(0x81, "late"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, Kind::close);
  EXPECT_EQ(seen[0].code, close_code::no_status);
}

TEST(WebSocketFsm, ProtocolErrorsNameWhatIsWrongAndEndTheReading) {
  struct Case {
    std::string input;
    std::uint16_t code;
    std::string reason_part;
  };
  const std::vector<Case> cases = {
      {bytes({0x81, 0x05}) + "Hello", close_code::protocol_error, "must be masked"},
      {client_frame(0xc1, "x"), close_code::protocol_error, "reserved bit"},
      {client_frame(0x83, "x"), close_code::protocol_error, "unknown opcode 3"},
      {client_frame(0x09, "x"), close_code::protocol_error, "fragmented control frame"},
      {client_frame(0x89, std::string(126, 'p')), close_code::protocol_error,
       "control frame of 126 bytes"},
      {client_frame(0x80, "x"), close_code::protocol_error, "no message to continue"},
      {client_frame(0x01, "a") + client_frame(0x81, "b"), close_code::protocol_error,
       "before the last one ended"},
      {bytes({0x81, 0xfe, 0x00, 0x05, 1, 2, 3, 4}), close_code::protocol_error, "shortest form"},
      {client_frame(0x88, "x"), close_code::protocol_error, "one-byte payload"},
      {client_frame(0x88, bytes({0x03, 0xed})), close_code::protocol_error, "close code 1005"},
      {client_frame(0x88, bytes({0x03, 0xe8, 0xff})), close_code::invalid_payload, "not UTF-8"},
      {client_frame(0x81, "\xc0\xaf"), close_code::invalid_payload, "not UTF-8"},      // overlong
      {client_frame(0x81, "\xed\xa0\x80"), close_code::invalid_payload, "not UTF-8"},  // surrogate
      {client_frame(0x82, std::string(1025, 'x')), close_code::too_big, "over 1024 bytes"},
      {client_frame(0x02, std::string(600, 'x')) + client_frame(0x80, std::string(600, 'x')),
       close_code::too_big, "over 1024 bytes"},
  };
  for (const Case& c : cases) {
    for (std::size_t piece : {0u, 1u}) {
      const auto seen = read_all(c.input + client_frame(0x81, "after"), piece);
      ASSERT_EQ(seen.size(), 1u) << c.reason_part;
      EXPECT_EQ(seen[0].kind, Kind::error) << c.reason_part;
      EXPECT_EQ(seen[0].code, c.code) << c.reason_part;
      EXPECT_NE(seen[0].reason.find(c.reason_part), std::string::npos)
          << seen[0].reason << " (wanted: " << c.reason_part << ")";
    }
  }
}

TEST(WebSocketFsm, BytesAfterAnErrorOrACloseAreDropped) {
  ClientFrameReader reader(1024);
  reader.append(client_frame(0xc1, "x"));  // a reserved bit: an error
  ASSERT_EQ(reader.next().kind, Kind::error);
  reader.append(std::string(5000, 'x'));
  char* room = reader.prepare(100);
  std::fill(room, room + 100, 'y');
  reader.commit(100);
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.next().kind, Kind::none);
}

TEST(WebSocketFsm, AnOversizedFrameIsRefusedFromItsHeaderAlone) {
  ClientFrameReader reader(1024);
  // Only the header of a frame that claims 1 GiB: refused before any payload is held.
  reader.append(bytes({0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4}));
  const ClientEvent e = reader.next();
  EXPECT_EQ(e.kind, Kind::error);
  EXPECT_EQ(e.code, close_code::too_big);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(WebSocketFsm, Utf8IsCheckedAsRfc3629Says) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("Pyongyang \xed\x8f\x89\xec\x96\x91 \xe2\x82\xac \xf0\x9f\x8f\x83"));
  EXPECT_FALSE(valid_utf8("\x80"));              // a continuation byte first
  EXPECT_FALSE(valid_utf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xf8\x88\x80\x80\x80"));
}

}  // namespace
}  // namespace splitstream::ws
