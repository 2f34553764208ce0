// A relay between timing devices (the simulator) and a node's device port that reads what the
// server tells them as it passes: the highest acked_seq each device was told (by a Welcome or an
// Ack), and every time a device was told less than it had been told before. A device drops the
// reads it was told are stored (docs/device-protocol.md), so a Welcome going back means reads
// the server acknowledged were lost; a simulator that keeps everything and resends would hide
// that, the witness does not.
//
//   DeviceAckWitness witness(node.devices);   // devices connect to witness.port()
//   ... the race ...
//   EXPECT_TRUE(witness.regressions().empty());
//   witness.told();                           // device -> highest acked seq it was told
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ingest/frame_codec.hpp"
#include "splitstream/v1/device.pb.h"

namespace splitstream::testing {

class DeviceAckWitness {
 public:
  explicit DeviceAckWitness(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(listener_);
      throw std::runtime_error("DeviceAckWitness: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~DeviceAckWitness() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (const auto& link : links_)
        link->shut();
    }
    // Relays are added only by the accept loop: join it first, then them.
    acceptor_.join();
    for (std::thread& relay : threads_)
      relay.join();
    ::close(listener_);
  }

  DeviceAckWitness(const DeviceAckWitness&) = delete;
  DeviceAckWitness& operator=(const DeviceAckWitness&) = delete;

  int port() const { return port_; }

  // Device id -> the highest acked_seq it was told.
  std::map<std::string, std::uint64_t> told() const {
    std::lock_guard lock(mutex_);
    return told_;
  }

  // "Welcome told stadium-main 480 after 730", one per reply that went back.
  std::vector<std::string> regressions() const {
    std::lock_guard lock(mutex_);
    return regressions_;
  }

  // Welcomes and Acks seen.
  std::uint64_t replies() const {
    std::lock_guard lock(mutex_);
    return replies_;
  }

 private:
  // One device connection and its upstream; closed when both directions are done.
  struct Link {
    int device = -1;
    int server = -1;
    std::string device_id;  // from its Hello (under the witness's mutex)
    void shut() const {
      ::shutdown(device, SHUT_RDWR);
      ::shutdown(server, SHUT_RDWR);
    }
    ~Link() {
      ::close(device);
      ::close(server);
    }
  };

  void accept_loop() {
    for (;;) {
      const int device = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (device < 0) {
        if (stopping_) return;
        continue;
      }
      auto link = std::make_shared<Link>();
      link->device = device;
      link->server = connect_upstream();
      if (link->server < 0) continue;  // the node is away: the device sees its line drop
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      links_.push_back(link);
      threads_.emplace_back([this, link] { device_to_server(link); });
      threads_.emplace_back([this, link] { server_to_device(link); });
    }
  }

  int connect_upstream() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  static bool send_all(int fd, const char* data, std::size_t size) {
    for (std::size_t sent = 0; sent < size;) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Relays the device's bytes as they come; learns the device id from its Hello first.
  void device_to_server(std::shared_ptr<Link> link) {
    FrameDecoder decoder(64u << 20);
    bool named = false;
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::recv(link->device, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      const auto size = static_cast<std::size_t>(n);
      // Before the bytes go on, so the server's Welcome cannot overtake the name.
      for (std::string_view rest(buffer, size); !named && !rest.empty();) {
        rest.remove_prefix(decoder.feed(rest));
        for (FrameResult r = decoder.next(); !named && r.is_frame(); r = decoder.next()) {
          const auto message = decode_device_message(r.payload);
          if (message && message->has_hello()) {
            std::lock_guard lock(mutex_);
            link->device_id = message->hello().device_id();
            named = true;
          }
        }
        if (decoder.failed()) named = true;  // not the device protocol: nothing to learn
      }
      if (!send_all(link->server, buffer, size)) break;
    }
    link->shut();
  }

  // Relays the server's bytes and reads each Welcome and Ack on the way.
  void server_to_device(std::shared_ptr<Link> link) {
    FrameDecoder decoder(64u << 20);
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::recv(link->server, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      const auto size = static_cast<std::size_t>(n);
      for (std::string_view rest(buffer, size); !rest.empty() && !decoder.failed();) {
        rest.remove_prefix(decoder.feed(rest));
        for (FrameResult r = decoder.next(); r.is_frame(); r = decoder.next()) {
          v1::ServerMessage message;
          if (!message.ParseFromArray(r.payload.data(), static_cast<int>(r.payload.size())))
            continue;
          if (message.has_welcome()) record(*link, "Welcome", message.welcome().acked_seq());
          if (message.has_ack()) record(*link, "Ack", message.ack().acked_seq());
        }
      }
      // Recorded before the device can act on it.
      if (!send_all(link->device, buffer, size)) break;
    }
    link->shut();
  }

  void record(const Link& link, const char* what, std::uint64_t acked) {
    std::lock_guard lock(mutex_);
    ++replies_;
    // Each fall once: the replies after it climb from where it fell.
    std::uint64_t& last = last_[link.device_id];
    if (acked < last) {
      regressions_.push_back(std::string(what) + " told " + link.device_id + " " +
                             std::to_string(acked) + " after " + std::to_string(last));
    }
    last = acked;
    std::uint64_t& told = told_[link.device_id];
    if (acked > told) told = acked;
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Link>> links_;
  std::vector<std::thread> threads_;  // the relays, two per link
  std::thread acceptor_;
  std::map<std::string, std::uint64_t> told_;  // the highest ever
  std::map<std::string, std::uint64_t> last_;  // the latest
  std::vector<std::string> regressions_;
  std::uint64_t replies_ = 0;
};

}  // namespace splitstream::testing
