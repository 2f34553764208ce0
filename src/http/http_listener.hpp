// Accepts HTTP connections and serves each in its own coroutine (http_session).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "http/router.hpp"

namespace splitstream {

struct HttpLimits {
  std::uint32_t max_body_bytes = 1 << 20;
  std::uint32_t max_header_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{30};  // also bounds reading one request
};

// Runs until the acceptor is closed.
boost::asio::awaitable<void> run_http_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                               std::shared_ptr<const Router> router,
                                               HttpLimits limits);

}  // namespace splitstream
