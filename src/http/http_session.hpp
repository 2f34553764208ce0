// One HTTP/1.1 connection, plain or TLS: read a request (bounded header, body and time), answer
// it through the router, repeat while the client keeps the connection alive.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "http/http_listener.hpp"

namespace splitstream {

// `hold` is the connection's place in the per-address count (passed on to a WebSocket);
// `tls` null: plain HTTP.
boost::asio::awaitable<void> run_http_session(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<const Router> router,
                                              HttpLimits limits, std::shared_ptr<void> hold,
                                              std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace splitstream
