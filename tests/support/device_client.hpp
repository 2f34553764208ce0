// A blocking timing-device client for tests: connects over TCP, sends DeviceMessage frames,
// reads ServerMessage frames.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>

#include "ingest/frame_codec.hpp"
#include "splitstream/v1/device.pb.h"

namespace splitstream::testing {

class DeviceClient {
 public:
  // `receive_buffer` > 0: the socket's receive buffer in bytes, set before connecting so that the
  // window it advertises stays that small (a device slow to read).
  explicit DeviceClient(int port, int receive_buffer = 0) : decoder_(64u << 20) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~DeviceClient() { ::close(fd_); }
  DeviceClient(const DeviceClient&) = delete;
  DeviceClient& operator=(const DeviceClient&) = delete;

  bool connected() const { return connected_; }

  bool send_raw(const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool send(const v1::DeviceMessage& m) { return send_raw(encode_frame(m)); }

  // As much of `bytes` as the socket takes now, without waiting: the count, or -1 with errno set
  // (EAGAIN: nothing taken now).
  ssize_t send_without_waiting(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  bool hello(const std::string& device, const std::string& token) {
    v1::DeviceMessage m;
    m.mutable_hello()->set_device_id(device);
    m.mutable_hello()->set_token(token);
    m.mutable_hello()->set_software("test-client");
    return send(m);
  }

  // The next message, or nullopt when the server closed the connection (or 10 s passed).
  std::optional<v1::ServerMessage> receive() {
    for (;;) {
      const FrameResult r = decoder_.next();
      if (r.is_frame()) {
        v1::ServerMessage m;
        if (!m.ParseFromArray(r.payload.data(), static_cast<int>(r.payload.size())))
          return std::nullopt;
        return m;
      }
      if (r.is_error()) return std::nullopt;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      decoder_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }

  // The next message that is not a Heartbeat.
  std::optional<v1::ServerMessage> receive_reply() {
    for (;;) {
      auto m = receive();
      if (!m || !m->has_heartbeat()) return m;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  FrameDecoder decoder_;
};

}  // namespace splitstream::testing
