// One timing device's TCP connection: bytes -> FrameDecoder -> DeviceProtocol -> ReadLog
// (Redis) -> Ack. The protocol logic lives in DeviceProtocol; this file only moves bytes and
// awaits Redis. Reading pauses while a batch is being made durable, so TCP flow control slows
// a device down instead of the server buffering without bound.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/connection_limiter.hpp"
#include "ingest/device_presence.hpp"
#include "ingest/device_protocol.hpp"
#include "ingest/device_tokens.hpp"
#include "ingest/read_batch_json.hpp"
#include "model/event.hpp"
#include "observe/server_metrics.hpp"
#include "store/read_log.hpp"

namespace splitstream {

// What every device session shares. All sessions, HTTP pushes and the ReadLog's Redis
// connection run on one strand.
struct DeviceIngest {
  DeviceIngest(const Event& e, const DeviceTokens& t, DeviceProtocolConfig p, ReadLog& log,
               std::size_t max_http_body = ReadBatchJsonLimits{}.max_body_bytes)
      : event(e),
        tokens(t),
        protocol(p),
        read_log(log),
        max_http_body_bytes(max_http_body),
        presence_(e.devices.size()) {}

  const Event& event;
  const DeviceTokens& tokens;
  DeviceProtocolConfig protocol;
  ReadLog& read_log;
  // The largest body of POST /api/v1/reads (--max-body), JSON or Protobuf: the router's limit
  // for the path is the same number, so the JSON parser's check never refuses what the router
  // let through.
  std::size_t max_http_body_bytes;

  // Shutdown: sessions stop reading, finish the batch they are storing, answer Error
  // SHUTTING_DOWN and close; HTTP pushes are refused with 503.
  void drain();
  bool draining() const { return draining_; }
  // No session open and no HTTP push being stored.
  bool drained() const { return sockets_.empty() && http_in_flight_ == 0; }

  // Bookkeeping for drain(), by the sessions and HTTP pushes themselves.
  void session_opened(boost::asio::ip::tcp::socket* s) { sockets_.insert(s); }
  void session_closed(boost::asio::ip::tcp::socket* s) { sockets_.erase(s); }
  void device_online(const std::string& id) {
    ++online_[id];
    metrics::server().devices_connected.add(1);
  }
  void device_offline(const std::string& id) {
    if (auto it = online_.find(id); it != online_.end() && --it->second == 0) online_.erase(it);
    metrics::server().devices_connected.add(-1);
  }
  // Sessions per device id past Welcome, on this node.
  const std::map<std::string, int>& online() const { return online_; }
  // What this node knows of each device of the event (by its index in event.devices), for the
  // presence publisher; null for an id that is no device of the event.
  DevicePresence* presence(const std::string& device_id) {
    const auto it = event.device_by_id.find(device_id);
    return it == event.device_by_id.end() ? nullptr : &presence_[it->second];
  }
  const std::vector<DevicePresence>& presence() const { return presence_; }
  void http_push_started() { ++http_in_flight_; }
  void http_push_finished() { --http_in_flight_; }

 private:
  std::unordered_set<boost::asio::ip::tcp::socket*> sockets_;
  std::map<std::string, int> online_;
  std::vector<DevicePresence> presence_;
  std::size_t http_in_flight_ = 0;
  bool draining_ = false;
};

boost::asio::awaitable<void> run_device_session(boost::asio::ip::tcp::socket socket,
                                                std::shared_ptr<DeviceIngest> ingest);

// Accepts device connections until the acceptor is closed; sessions run on the caller's
// executor (the strand above). An address over its connection limit gets an Error OVERLOADED
// frame and is closed. `tls` null: plain TCP.
boost::asio::awaitable<void> run_device_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                                 std::shared_ptr<DeviceIngest> ingest,
                                                 std::shared_ptr<ConnectionLimiter> per_address,
                                                 std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace splitstream
