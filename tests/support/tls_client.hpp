// TLS peers for tests: a self-signed certificate made with the openssl command, and blocking
// clients that verify the server against it: HTTPS requests, a WebSocket viewer over wss://, and a
// timing device over TLS.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "ingest/frame_codec.hpp"
#include "splitstream/v1/device.pb.h"
#include "support/child_process.hpp"

namespace splitstream::testing {

struct SelfSigned {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// A certificate for localhost and 127.0.0.1, valid for a day, in `dir`.
inline SelfSigned make_self_signed(const std::filesystem::path& dir,
                                   const std::string& name = "server") {
  SelfSigned out{dir / (name + "-cert.pem"), dir / (name + "-key.pem")};
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
      "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      out.key.string() + " -out " + out.cert.string() + " 2>/dev/null";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  return out;
}

// A client context that trusts only `ca` and checks the name "localhost".
inline boost::asio::ssl::context client_context(const std::filesystem::path& ca) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.load_verify_file(ca.string());
  ctx.set_verify_mode(boost::asio::ssl::verify_peer);
  return ctx;
}

struct TlsHttpResult {
  HttpResult http;
  boost::beast::error_code error;  // the handshake's or the exchange's
};

// One HTTPS request to 127.0.0.1:port, the server verified against `ca`.
inline TlsHttpResult https_request(
    int port, const std::filesystem::path& ca, const std::string& target,
    boost::beast::http::verb method = boost::beast::http::verb::get) {
  namespace beast = boost::beast;
  TlsHttpResult out;
  boost::asio::io_context ioc;
  auto ctx = client_context(ca);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  stream.set_verify_callback(boost::asio::ssl::host_name_verification("localhost"));
  beast::get_lowest_layer(stream).connect(
      {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, out.error);
  if (out.error) return out;
  stream.handshake(boost::asio::ssl::stream_base::client, out.error);
  if (out.error) return out;
  beast::http::request<beast::http::string_body> req{method, target, 11};
  req.set(beast::http::field::host, "localhost");
  beast::http::write(stream, req, out.error);
  if (out.error) return out;
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res, out.error);
  if (out.error) return out;
  out.http.status = res.result_int();
  out.http.body = res.body();
  beast::error_code ignored;
  stream.shutdown(ignored);
  return out;
}

// A viewer over wss://localhost:port/ws with the JSON subprotocol.
class WssClient {
 public:
  WssClient(int port, const std::filesystem::path& ca) : ctx_(client_context(ca)), ws_(ioc_, ctx_) {
    namespace beast = boost::beast;
    auto& tls = ws_.next_layer();
    tls.set_verify_callback(boost::asio::ssl::host_name_verification("localhost"));
    beast::get_lowest_layer(ws_).connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, error_);
    if (!error_) tls.handshake(boost::asio::ssl::stream_base::client, error_);
    ws_.set_option(beast::websocket::stream_base::decorator([](beast::websocket::request_type& r) {
      r.set(beast::http::field::sec_websocket_protocol, "splitstream.v1.json");
    }));
    if (!error_) ws_.handshake("localhost", "/ws", error_);
  }
  bool open() const { return !error_; }
  const boost::beast::error_code& error() const { return error_; }
  bool send_text(const std::string& text) {
    ws_.write(boost::asio::buffer(text), error_);
    return !error_;
  }
  std::optional<std::string> receive() {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer, error_);
    if (error_) return std::nullopt;
    return boost::beast::buffers_to_string(buffer.data());
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>> ws_;
  boost::beast::error_code error_;
};

// A timing device over TLS: DeviceMessage frames out, ServerMessage frames in.
class TlsDeviceClient {
 public:
  TlsDeviceClient(int port, const std::filesystem::path& ca)
      : ctx_(client_context(ca)), stream_(ioc_, ctx_), decoder_(64u << 20) {
    stream_.set_verify_callback(boost::asio::ssl::host_name_verification("localhost"));
    stream_.next_layer().connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, error_);
    if (!error_) stream_.handshake(boost::asio::ssl::stream_base::client, error_);
  }
  bool open() const { return !error_; }
  const boost::system::error_code& error() const { return error_; }
  bool send(const v1::DeviceMessage& m) {
    boost::asio::write(stream_, boost::asio::buffer(encode_frame(m)), error_);
    return !error_;
  }
  std::optional<v1::ServerMessage> receive_reply() {
    for (;;) {
      const FrameResult r = decoder_.next();
      if (r.is_frame()) {
        v1::ServerMessage m;
        if (!m.ParseFromArray(r.payload.data(), static_cast<int>(r.payload.size())))
          return std::nullopt;
        if (m.has_heartbeat()) continue;
        return m;
      }
      if (r.is_error()) return std::nullopt;
      char buf[4096];
      const std::size_t n = stream_.read_some(boost::asio::buffer(buf), error_);
      if (error_) return std::nullopt;
      decoder_.feed(std::string_view(buf, n));
    }
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  FrameDecoder decoder_;
  boost::system::error_code error_;
};

}  // namespace splitstream::testing
