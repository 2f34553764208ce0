#include "push/websocket_fsm.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <utility>

namespace splitstream::ws {

namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kMaxControlPayload = 125;

bool is_control(std::uint8_t opcode) {
  return (opcode & 0x8) != 0;
}

bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;  // for libraries and applications
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;  // reserved, never on the wire
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string text(client_key);
  text += kAcceptGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  const int n = EVP_EncodeBlock(encoded.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

bool valid_client_key(std::string_view key) {
  // 16 bytes: 22 base64 characters and "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  std::array<unsigned char, 19> decoded{};
  return EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()),
                         static_cast<int>(key.size())) == 18;
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

void append_frame_header(std::string& out, Opcode opcode, std::size_t payload_size) {
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  if (payload_size < 126) {
    out += static_cast<char>(payload_size);
  } else if (payload_size <= 0xffff) {
    out += static_cast<char>(126);
    out += static_cast<char>((payload_size >> 8) & 0xff);
    out += static_cast<char>(payload_size & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((static_cast<std::uint64_t>(payload_size) >> shift) & 0xff);
  }
}

std::string server_frame(Opcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  append_frame_header(out, opcode, payload.size());
  out += payload;
  return out;
}

std::string close_frame(std::uint16_t code, std::string_view reason) {
  reason = reason.substr(0, std::min(reason.size(), kMaxControlPayload - 2));
  // Not in the middle of a character: continuation bytes are 10xxxxxx.
  while (!reason.empty() && !valid_utf8(reason))
    reason.remove_suffix(1);
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xff);
  payload += reason;
  return server_frame(Opcode::close, payload);
}

ClientFrameReader::ClientFrameReader(std::size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes) {}

char* ClientFrameReader::prepare(std::size_t n) {
  compact();
  const std::size_t size = in_.size();
  in_.resize(size + n);
  prepared_ = n;
  return in_.data() + size;
}

void ClientFrameReader::commit(std::size_t n) {
  // prepare() grew in_ by the room asked for; keep only what came (nothing after the end).
  in_.resize(in_.size() - prepared_ + (ended_ ? 0 : std::min(n, prepared_)));
  prepared_ = 0;
}

void ClientFrameReader::append(std::string_view bytes) {
  if (ended_) return;  // after a close or an error, nothing more is read
  compact();
  in_ += bytes;
}

void ClientFrameReader::compact() {
  if (pos_ == 0) return;
  in_.erase(0, pos_);
  pos_ = 0;
}

ClientEvent ClientFrameReader::fail(std::uint16_t code, std::string reason) {
  ended_ = true;
  in_.clear();
  pos_ = 0;
  message_.clear();
  ClientEvent event;
  event.kind = ClientEvent::Kind::error;
  event.code = code;
  event.reason = std::move(reason);
  return event;
}

ClientEvent ClientFrameReader::next() {
  if (deliver_cleared_) {
    message_.clear();
    deliver_cleared_ = false;
  }
  if (ended_) return {};
  for (;;) {
    const std::size_t available = in_.size() - pos_;
    if (available < 2) return {};
    const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
    const bool fin = (p[0] & 0x80) != 0;
    const std::uint8_t opcode = p[0] & 0x0f;
    if ((p[0] & 0x70) != 0)
      return fail(close_code::protocol_error, "a reserved bit is set (no extension was agreed)");
    if ((p[1] & 0x80) == 0)
      return fail(close_code::protocol_error, "a client's frames must be masked");
    if (opcode != 0x0 && opcode != 0x1 && opcode != 0x2 && opcode != 0x8 && opcode != 0x9 &&
        opcode != 0xa) {
      return fail(close_code::protocol_error, "unknown opcode " + std::to_string(opcode));
    }
    const std::uint8_t len7 = p[1] & 0x7f;
    const std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const std::size_t header = 2 + extended + 4;
    if (available < header) return {};
    std::uint64_t length = len7;
    if (extended > 0) {
      length = 0;
      for (std::size_t k = 0; k < extended; ++k)
        length = (length << 8) | p[2 + k];
      if ((len7 == 126 && length < 126) || (len7 == 127 && length <= 0xffff))
        return fail(close_code::protocol_error, "a frame length not in its shortest form");
      if (len7 == 127 && (length >> 63) != 0)
        return fail(close_code::protocol_error, "a frame length with its top bit set");
    }
    if (is_control(opcode)) {
      if (!fin) return fail(close_code::protocol_error, "a fragmented control frame");
      if (length > kMaxControlPayload) {
        return fail(close_code::protocol_error,
                    "a control frame of " + std::to_string(length) + " bytes (at most 125)");
      }
    } else {
      const bool under_way = message_opcode_ != Opcode::continuation;
      if (opcode == 0x0 && !under_way)
        return fail(close_code::protocol_error, "a continuation frame with no message to continue");
      if (opcode != 0x0 && under_way)
        return fail(close_code::protocol_error, "a new message before the last one ended");
      if (length > max_message_bytes_ - message_.size()) {
        return fail(close_code::too_big, "a message over " + std::to_string(max_message_bytes_) +
                                             " bytes (the limit for a client's message)");
      }
    }
    if (available - header < length) return {};  // the payload is still on its way
    const unsigned char* mask = p + 2 + extended;
    const char* payload = in_.data() + pos_ + header;
    std::string& target = is_control(opcode) ? control_ : message_;
    if (is_control(opcode)) control_.clear();
    const std::size_t start = target.size();
    target.append(payload, static_cast<std::size_t>(length));
    for (std::size_t k = 0; k < length; ++k)
      target[start + k] =
          static_cast<char>(static_cast<unsigned char>(target[start + k]) ^ mask[k % 4]);
    pos_ += header + static_cast<std::size_t>(length);
    if (pos_ == in_.size()) {
      in_.clear();
      pos_ = 0;
    }

    ClientEvent event;
    switch (static_cast<Opcode>(opcode)) {
      case Opcode::ping:
        event.kind = ClientEvent::Kind::ping;
        event.payload = control_;
        return event;
      case Opcode::pong:
        event.kind = ClientEvent::Kind::pong;
        event.payload = control_;
        return event;
      case Opcode::close: {
        if (control_.size() == 1)
          return fail(close_code::protocol_error, "a close frame with a one-byte payload");
        event.kind = ClientEvent::Kind::close;
        event.code = close_code::no_status;
        if (control_.size() >= 2) {
          event.code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                                  static_cast<unsigned char>(control_[1]));
          if (!valid_close_code(event.code))
            return fail(close_code::protocol_error, "close code " + std::to_string(event.code));
          event.payload = std::string_view(control_).substr(2);
          if (!valid_utf8(event.payload))
            return fail(close_code::invalid_payload, "a close reason that is not UTF-8");
        }
        ended_ = true;
        in_.clear();  // nothing after a close frame is read
        pos_ = 0;
        return event;
      }
      default:
        break;
    }
    if (opcode != 0x0) message_opcode_ = static_cast<Opcode>(opcode);
    if (!fin) continue;  // the message goes on in the next frame
    const Opcode kind = message_opcode_;
    message_opcode_ = Opcode::continuation;
    if (kind == Opcode::text && !valid_utf8(message_))
      return fail(close_code::invalid_payload, "a text message that is not UTF-8");
    event.kind = kind == Opcode::text ? ClientEvent::Kind::text : ClientEvent::Kind::binary;
    event.payload = message_;
    deliver_cleared_ = true;
    return event;
  }
}

}  // namespace splitstream::ws
