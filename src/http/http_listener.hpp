// Accepts HTTP connections (plain or TLS) and serves each in its own coroutine on a strand of
// its own (http_session). An address over its connection limit is answered 429 and closed.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "core/connection_limiter.hpp"
#include "http/router.hpp"

namespace splitstream {

struct HttpLimits {
  std::uint32_t max_body_bytes = 16 * 1024;  // paths without a limit of their own (router)
  std::uint32_t max_header_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{30};  // also bounds reading one request
  std::chrono::seconds handshake_timeout{10};
};

// Runs until the acceptor is closed. `tls` null: plain HTTP.
boost::asio::awaitable<void> run_http_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                               std::shared_ptr<const Router> router,
                                               HttpLimits limits,
                                               std::shared_ptr<ConnectionLimiter> per_address,
                                               std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace splitstream
