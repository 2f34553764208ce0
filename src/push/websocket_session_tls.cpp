// The TLS instantiation of the viewer session (websocket_session_impl.hpp says why apart).
#include "push/websocket_session_impl.hpp"

namespace splitstream::websocket_detail {

asio::awaitable<void> serve_tls(TlsStream& stream, HttpRequest request,
                                std::shared_ptr<PushContext> context, std::shared_ptr<void> hold) {
  co_await serve_on(stream, std::move(request), std::move(context), std::move(hold));
}

}  // namespace splitstream::websocket_detail
