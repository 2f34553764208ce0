#include "server/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/http_listener.hpp"
#include "server/log.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp::acceptor open_acceptor(asio::io_context& ioc, const Endpoint& at, const char* what) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(at.host == "localhost" ? "127.0.0.1" : at.host, ec);
  if (ec) throw std::runtime_error(std::string(what) + ": bad address \"" + at.host + "\"");
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, at.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(std::string(what) + ": cannot listen on " + at.host + ":" +
                             std::to_string(at.port) + ": " + ec.message());
  }
  return acceptor;
}

}  // namespace

int run_server(const ServerConfig& config, const Event& event) {
  asio::io_context ioc(config.threads);
  tcp::acceptor http_acceptor = open_acceptor(ioc, config.http, "http");
  std::vector<ReadinessCheck> checks;
  checks.push_back({"event", [&event](std::string& detail) {
                      detail = event.id + ": " + std::to_string(event.participants.size()) +
                               " participants";
                      return true;
                    }});
  auto router = std::make_shared<const Router>(std::move(checks));
  HttpLimits limits;
  limits.max_body_bytes = config.max_body_bytes;
  asio::co_spawn(ioc, run_http_listener(http_acceptor, router, limits), asio::detached);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("server", "signal " + std::to_string(signal) + ": stopping");
    boost::system::error_code ignored;
    http_acceptor.close(ignored);
    ioc.stop();
  });
  const auto bound = http_acceptor.local_endpoint();
  log::info("server", "event " + event.id + "; http on " + bound.address().to_string() + ":" +
                          std::to_string(bound.port()));

  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i)
    threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& t : threads)
    t.join();
  log::info("server", "stopped");
  return 0;
}

}  // namespace splitstream
