// The server's side of the WebSocket protocol (RFC 6455) without sockets: the handshake's accept
// key, server frames (unmasked, so the frame of an update is built once and written as is to
// every viewer), and a reader that turns the bytes a client sends into messages, pings, pongs
// and a close, or into the error that ends the connection with its close code and reason.
// No extension is negotiated: a frame with a reserved bit set is a protocol error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace splitstream::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

// Close codes (RFC 6455 section 7.4.1) that the server sends.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005;  // a close frame without a code (never sent)
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t try_again_later = 1013;
}  // namespace close_code

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view client_key);
// Whether a Sec-WebSocket-Key is what RFC 6455 asks for: 16 bytes in base64 (24 characters).
bool valid_client_key(std::string_view key);
bool valid_utf8(std::string_view text);

// Appends a whole (FIN) unmasked server frame's header for a payload of `payload_size` bytes.
void append_frame_header(std::string& out, Opcode opcode, std::size_t payload_size);
// A whole server frame: the header, then the payload.
std::string server_frame(Opcode opcode, std::string_view payload);
// A close frame with the code and as much of the reason as fits (123 bytes, cut on a UTF-8
// character boundary).
std::string close_frame(std::uint16_t code, std::string_view reason);

// What the client sent, one event at a time.
struct ClientEvent {
  enum class Kind : std::uint8_t {
    none,    // no whole frame yet: read more
    text,    // a whole message (fragments joined), valid UTF-8
    binary,  // a whole message
    ping,    // to be answered with a pong carrying the same payload
    pong,
    close,  // the client's close frame: `code` (no_status without one) and `reason`
    error,  // the connection is to be closed with `code` and `reason`; nothing follows
  };
  Kind kind = Kind::none;
  std::string_view payload;  // text, binary, ping, pong, close reason: valid until next()
  std::uint16_t code = 0;
  std::string reason;  // error: what was wrong
};

class ClientFrameReader {
 public:
  // Messages (all their fragments together) over `max_message_bytes` are an error (1009).
  explicit ClientFrameReader(std::size_t max_message_bytes);

  // Room for up to `n` bytes from the socket; commit() says how many came. After a close or
  // an error, what comes is dropped.
  char* prepare(std::size_t n);
  void commit(std::size_t n);
  // Appends bytes (prepare + commit).
  void append(std::string_view bytes);

  // The next event in what has come so far. After a close or an error, always `none`.
  ClientEvent next();

  // Bytes held: an unfinished frame and message (bounded by the limit and one header).
  std::size_t buffered() const { return in_.size() - pos_ + message_.size(); }

 private:
  ClientEvent fail(std::uint16_t code, std::string reason);
  void compact();

  std::size_t max_message_bytes_;
  std::string in_;  // bytes received, from pos_ not yet parsed
  std::size_t pos_ = 0;
  std::size_t prepared_ = 0;  // room added by prepare(), not yet committed
  std::string message_;       // the data frames of the message under way, unmasked
  std::string control_;       // the last control frame's payload, unmasked
  Opcode message_opcode_ = Opcode::continuation;  // continuation: no message under way
  bool deliver_cleared_ = false;  // message_ was handed out: clear it on the next call
  bool ended_ = false;
};

}  // namespace splitstream::ws
