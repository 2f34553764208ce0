#include "http/http_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/http_session.hpp"

namespace splitstream {

namespace asio = boost::asio;

asio::awaitable<void> run_http_listener(asio::ip::tcp::acceptor& acceptor,
                                        std::shared_ptr<const Router> router, HttpLimits limits) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. too many open files: keep serving the connections we have
    asio::co_spawn(acceptor.get_executor(), run_http_session(std::move(socket), router, limits),
                   asio::detached);
  }
}

}  // namespace splitstream
