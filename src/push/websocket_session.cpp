#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <optional>

#include "push/websocket_session_impl.hpp"

namespace splitstream {

namespace websocket_detail {

std::size_t read_ready(tcp::socket& socket, ws::ClientFrameReader& reader,
                       boost::system::error_code& ec) {
  static thread_local std::array<char, 16 * 1024> buffer;
  const std::size_t n = socket.read_some(asio::buffer(buffer), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  reader.append(std::string_view(buffer.data(), n));
  return n;
}

std::optional<PlainStream> move_to_strand(PlainStream& stream,
                                          const asio::any_io_executor& strand) {
  tcp::socket& socket = stream.socket();
  boost::system::error_code ec;
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  const auto fd = socket.release(ec);
  if (ec) return std::nullopt;
  tcp::socket moved(strand);
  moved.assign(local.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return std::nullopt;
  }
  return PlainStream(std::move(moved));
}

std::optional<std::size_t> unacknowledged_bytes(tcp::socket& socket) {
  int queued = 0;
  if (::ioctl(socket.native_handle(), SIOCOUTQ, &queued) != 0) return std::nullopt;
  return static_cast<std::size_t>(std::max(queued, 0));
}

beast::http::response<beast::http::empty_body> handshake_response(const HttpRequest& request,
                                                                  LiveFormat format) {
  namespace http = beast::http;
  http::response<http::empty_body> res(http::status::switching_protocols, request.version());
  res.set(http::field::server, "splitstream");
  res.set(http::field::upgrade, "websocket");
  res.set(http::field::connection, "Upgrade");
  res.set(http::field::sec_websocket_accept,
          ws::accept_key(request[http::field::sec_websocket_key]));
  if (request.count(http::field::sec_websocket_protocol) > 0) {
    res.set(http::field::sec_websocket_protocol,
            format == LiveFormat::protobuf ? kProtobufSubprotocol : kJsonSubprotocol);
  }
  return res;
}

asio::awaitable<void> serve_plain(PlainStream& stream, HttpRequest request,
                                  std::shared_ptr<PushContext> context,
                                  std::shared_ptr<void> hold) {
  co_await serve_on(stream, std::move(request), std::move(context), std::move(hold));
}

}  // namespace websocket_detail

std::optional<LiveFormat> choose_subprotocol(std::string_view offered) {
  std::optional<LiveFormat> chosen;
  while (!offered.empty()) {
    const auto comma = offered.find(',');
    const std::string_view item = trim(offered.substr(0, comma));
    if (item == kProtobufSubprotocol) return LiveFormat::protobuf;
    if (item == kJsonSubprotocol) chosen = LiveFormat::json;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return chosen;
}

boost::asio::awaitable<void> serve_websocket(HttpStreamRef stream, HttpRequest request,
                                             std::shared_ptr<PushContext> context,
                                             std::shared_ptr<void> hold) {
  if (auto* plain = std::get_if<PlainStream*>(&stream.stream)) {
    co_await websocket_detail::serve_plain(**plain, std::move(request), std::move(context),
                                           std::move(hold));
  } else {
    co_await websocket_detail::serve_tls(*std::get<TlsStream*>(stream.stream), std::move(request),
                                         std::move(context), std::move(hold));
  }
}

Router::UpgradeHandler websocket_upgrade(std::shared_ptr<PushContext> context) {
  return [context](HttpStreamRef stream, HttpRequest request, std::shared_ptr<void> hold) {
    return serve_websocket(stream, std::move(request), context, std::move(hold));
  };
}

}  // namespace splitstream
