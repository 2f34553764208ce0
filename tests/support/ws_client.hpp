// A blocking WebSocket viewer for tests (Beast, synchronous): connects to /ws with a
// subprotocol, sends ClientMessages, receives LiveMessages in JSON or Protobuf.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>
#include <string>

#include "splitstream/v1/live.pb.h"

namespace splitstream::testing {

class WsClient {
 public:
  // `subprotocol` empty: none offered (the server answers in JSON).
  // `cookie`: a Cookie header's value for the upgrade (a signed-in official's session).
  WsClient(int port, const std::string& subprotocol, const std::string& origin = "",
           int receive_buffer = 0, const std::string& cookie = "")
      : ws_(ioc_) {
    namespace websocket = boost::beast::websocket;
    auto& socket = ws_.next_layer();
    socket.open(boost::asio::ip::tcp::v4());
    if (receive_buffer > 0) {
      socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer));
    }
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                   error_);
    if (error_) return;
    ws_.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
      if (!subprotocol.empty())
        req.set(boost::beast::http::field::sec_websocket_protocol, subprotocol);
      if (!origin.empty()) req.set(boost::beast::http::field::origin, origin);
      if (!cookie.empty()) req.set(boost::beast::http::field::cookie, cookie);
    }));
    ws_.handshake(response_, "127.0.0.1", "/ws", error_);
    binary_ = subprotocol == "splitstream.v1.protobuf";
    ws_.binary(binary_);
    // Beast answers pings while a read is in progress; counted so that a test can wait for
    // the server's keep-alive pings.
    ws_.control_callback([this](websocket::frame_type kind, boost::beast::string_view) {
      if (kind == websocket::frame_type::ping) pings_.fetch_add(1);
    });
  }

  bool open() const { return !error_; }
  const boost::beast::error_code& error() const { return error_; }
  // The handshake's response (status, Sec-WebSocket-Protocol; the body when refused).
  const boost::beast::websocket::response_type& response() const { return response_; }

  bool send_text(const std::string& text) {
    ws_.text(true);
    ws_.write(boost::asio::buffer(text), error_);
    ws_.binary(binary_);
    return !error_;
  }
  bool send(const v1::ClientMessage& m) {
    if (binary_) {
      ws_.write(boost::asio::buffer(m.SerializeAsString()), error_);
      return !error_;
    }
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(m, &json);
    return send_text(json);
  }

  // The next message, or nullopt when closed or after 10 s. `raw` gets the frame's bytes.
  std::optional<v1::LiveMessage> receive(std::string* raw = nullptr) {
    // Asio's blocking reads ignore SO_RCVTIMEO, and the stream may hold a whole message read
    // ahead: an asynchronous read with a deadline covers both.
    boost::beast::flat_buffer buffer;
    bool done = false;
    ws_.async_read(buffer, [&](boost::beast::error_code ec, std::size_t) {
      error_ = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(std::chrono::seconds(10));
    if (!done) {
      ws_.next_layer().cancel();
      ioc_.restart();
      ioc_.run();
      error_ = boost::asio::error::timed_out;
    }
    if (error_) return std::nullopt;
    const std::string bytes = boost::beast::buffers_to_string(buffer.data());
    if (raw) *raw = bytes;
    v1::LiveMessage m;
    if (ws_.got_binary()) {
      if (!m.ParseFromString(bytes)) return std::nullopt;
    } else if (!google::protobuf::util::JsonStringToMessage(bytes, &m).ok()) {
      return std::nullopt;
    }
    return m;
  }

  // Pings received (and answered) during receive(); safe to read from another thread.
  int pings_received() const { return pings_.load(); }

  // The close reason the server sent, once receive() failed with `closed`.
  std::string close_reason() const { return std::string(ws_.reason().reason.c_str()); }

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::websocket::response_type response_;
  boost::beast::error_code error_;
  bool binary_ = false;
  std::atomic<int> pings_{0};
};

inline v1::ClientMessage subscribe_standings(const std::string& race, const std::string& category,
                                             std::uint32_t limit, std::uint64_t since = 0) {
  v1::ClientMessage m;
  v1::Subscribe* s = m.mutable_subscribe();
  s->set_kind(v1::SUBSCRIPTION_KIND_STANDINGS);
  s->set_race_id(race);
  s->set_category_id(category);
  s->set_limit(limit);
  s->set_since_version(since);
  return m;
}

inline v1::ClientMessage subscribe_passings(const std::string& timing_point = "",
                                            std::uint64_t since = 0) {
  v1::ClientMessage m;
  v1::Subscribe* s = m.mutable_subscribe();
  s->set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
  s->set_timing_point_id(timing_point);
  s->set_since_version(since);
  return m;
}

}  // namespace splitstream::testing
