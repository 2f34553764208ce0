#include "push/websocket_session_impl.hpp"

namespace splitstream {

namespace websocket_detail {

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
