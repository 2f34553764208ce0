#include "support/ws_client.hpp"

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>

namespace splitstream::testing {

namespace websocket = boost::beast::websocket;

struct WsClient::Impl {
  boost::asio::io_context ioc;
  websocket::stream<boost::asio::ip::tcp::socket> ws{ioc};
  websocket::response_type response;
  boost::beast::error_code error;
  bool binary = false;
  std::atomic<int> pings{0};
};

WsClient::WsClient(int port, const std::string& subprotocol, const std::string& origin,
                   int receive_buffer, const std::string& cookie)
    : impl_(std::make_unique<Impl>()) {
  Impl& c = *impl_;
  auto& socket = c.ws.next_layer();
  socket.open(boost::asio::ip::tcp::v4());
  if (receive_buffer > 0) {
    socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer));
  }
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                 c.error);
  if (c.error) return;
  c.ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    if (!subprotocol.empty())
      req.set(boost::beast::http::field::sec_websocket_protocol, subprotocol);
    if (!origin.empty()) req.set(boost::beast::http::field::origin, origin);
    if (!cookie.empty()) req.set(boost::beast::http::field::cookie, cookie);
  }));
  c.ws.handshake(c.response, "127.0.0.1", "/ws", c.error);
  c.binary = subprotocol == "splitstream.v1.protobuf";
  c.ws.binary(c.binary);
  // Beast answers pings while a read is in progress; counted so that a test can wait for
  // the server's keep-alive pings.
  Impl* impl = impl_.get();
  c.ws.control_callback([impl](websocket::frame_type kind, boost::beast::string_view) {
    if (kind == websocket::frame_type::ping) impl->pings.fetch_add(1);
  });
}

WsClient::~WsClient() = default;

bool WsClient::open() const {
  return !impl_->error;
}

const boost::system::error_code& WsClient::error() const {
  return impl_->error;
}

bool WsClient::timed_out() const {
  return impl_->error == boost::asio::error::timed_out;
}

bool WsClient::closed_by_server() const {
  return impl_->error == websocket::error::closed;
}

int WsClient::response_status() const {
  return static_cast<int>(impl_->response.result_int());
}

std::string WsClient::response_header(std::string_view name) const {
  const auto it = impl_->response.find(boost::beast::string_view(name.data(), name.size()));
  if (it == impl_->response.end()) return "";
  return std::string(it->value());
}

std::string WsClient::response_body() const {
  return impl_->response.body();
}

bool WsClient::send_text(const std::string& text) {
  Impl& c = *impl_;
  c.ws.text(true);
  c.ws.write(boost::asio::buffer(text), c.error);
  c.ws.binary(c.binary);
  return !c.error;
}

bool WsClient::send(const v1::ClientMessage& m) {
  Impl& c = *impl_;
  if (c.binary) {
    c.ws.write(boost::asio::buffer(m.SerializeAsString()), c.error);
    return !c.error;
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json);
  return send_text(json);
}

std::optional<v1::LiveMessage> WsClient::receive(std::string* raw) {
  Impl& c = *impl_;
  // Asio's blocking reads ignore SO_RCVTIMEO, and the stream may hold a whole message read
  // ahead: an asynchronous read with a deadline covers both.
  boost::beast::flat_buffer buffer;
  bool done = false;
  c.ws.async_read(buffer, [&](boost::beast::error_code ec, std::size_t) {
    c.error = ec;
    done = true;
  });
  c.ioc.restart();
  c.ioc.run_for(std::chrono::seconds(10));
  if (!done) {
    c.ws.next_layer().cancel();
    c.ioc.restart();
    c.ioc.run();
    c.error = boost::asio::error::timed_out;
  }
  if (c.error) return std::nullopt;
  const std::string bytes = boost::beast::buffers_to_string(buffer.data());
  if (raw) *raw = bytes;
  v1::LiveMessage m;
  if (c.ws.got_binary()) {
    if (!m.ParseFromString(bytes)) return std::nullopt;
  } else if (!google::protobuf::util::JsonStringToMessage(bytes, &m).ok()) {
    return std::nullopt;
  }
  return m;
}

int WsClient::pings_received() const {
  return impl_->pings.load();
}

std::string WsClient::close_reason() const {
  return std::string(impl_->ws.reason().reason.c_str());
}

}  // namespace splitstream::testing
