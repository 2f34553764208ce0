// The TLS context of the listeners (HTTP/WebSocket and the device port) from PEM files.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "server/config.hpp"

namespace splitstream {

// Null when no listener uses TLS. Throws at start-up with a message naming the wrong file.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ServerConfig& config);

}  // namespace splitstream
