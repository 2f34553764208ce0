// One timing device's TCP connection: bytes -> FrameDecoder -> DeviceProtocol -> ReadLog
// (Redis) -> Ack. The protocol logic lives in DeviceProtocol; this file only moves bytes and
// awaits Redis. Reading pauses while a batch is being made durable, so TCP flow control slows
// a device down instead of the server buffering without bound.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "ingest/device_protocol.hpp"
#include "ingest/device_tokens.hpp"
#include "model/event.hpp"
#include "store/read_log.hpp"

namespace splitstream {

// What every device session shares. All sessions and the ReadLog's Redis connection run on
// one strand.
struct DeviceIngest {
  const Event& event;
  const DeviceTokens& tokens;
  DeviceProtocolConfig protocol;
  ReadLog& read_log;
};

boost::asio::awaitable<void> run_device_session(boost::asio::ip::tcp::socket socket,
                                                std::shared_ptr<DeviceIngest> ingest);

// Accepts device connections until the acceptor is closed; sessions run on the caller's
// executor (the strand above).
boost::asio::awaitable<void> run_device_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                                 std::shared_ptr<DeviceIngest> ingest);

}  // namespace splitstream
