// One HTTP/1.1 connection: read a request (bounded header, body and time), answer it through
// the router, repeat while the client keeps the connection alive.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "http/http_listener.hpp"

namespace splitstream {

boost::asio::awaitable<void> run_http_session(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<const Router> router,
                                              HttpLimits limits);

}  // namespace splitstream
