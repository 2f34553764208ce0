#include "http/http_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "http/http_session.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "observe/spawn_completion.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kRefusalLogEvery{10};

// The whole answer to a connection over its address's limit, written without reading a byte.
std::string too_many_connections(std::size_t limit) {
  const std::string body = boost::json::serialize(boost::json::object{
      {"error",
       {{"code", "too_many_connections"},
        {"message", "this address holds " + std::to_string(limit) +
                        " connections to this server already: close some, then retry"}}}});
  return "HTTP/1.1 429 Too Many Requests\r\nServer: splitstream\r\nContent-Type: "
         "application/json\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

asio::awaitable<void> refuse(asio::ip::tcp::socket socket, std::size_t limit, bool tls) {
  boost::system::error_code ignored;
  // A TLS client cannot read plain text: it only sees the connection close.
  if (!tls) co_await asio::async_write(socket, asio::buffer(too_many_connections(limit)), kNoThrow);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

asio::awaitable<void> run_http_listener(asio::ip::tcp::acceptor& acceptor,
                                        std::shared_ptr<const Router> router, HttpLimits limits,
                                        std::shared_ptr<ConnectionLimiter> per_address,
                                        std::shared_ptr<asio::ssl::context> tls) {
  for (;;) {
    // Each connection on a strand of its own: a WebSocket upgrade keeps it.
    auto [ec, socket] =
        co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()), kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. too many open files: keep serving the connections we have
    boost::system::error_code peer_error;
    const auto peer = socket.remote_endpoint(peer_error);
    const std::string address = peer_error ? std::string() : peer.address().to_string();
    auto slot = per_address->acquire(address);
    if (!slot) {
      metrics::connections_refused("http", "per_address_limit").inc();
      if (auto n =
              per_address->refusals_to_report(std::chrono::steady_clock::now(), kRefusalLogEvery)) {
        log::warn("http", "connections refused over the per-address limit",
                  {{"count", std::to_string(*n)},
                   {"latest", address},
                   {"limit", std::to_string(per_address->limit())}});
      }
      const auto executor = socket.get_executor();
      asio::co_spawn(executor, refuse(std::move(socket), per_address->limit(), tls != nullptr),
                     LogAndDrop("http"));
      continue;
    }
    const auto executor = socket.get_executor();
    asio::co_spawn(
        executor,
        run_http_session(std::move(socket), router, limits,
                         std::make_shared<ConnectionLimiter::Slot>(std::move(*slot)), tls),
        LogAndDrop("http"));
  }
}

}  // namespace splitstream
