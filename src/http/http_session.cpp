#include "http/http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace splitstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

asio::awaitable<void> run_http_session(asio::ip::tcp::socket socket,
                                       std::shared_ptr<const Router> router, HttpLimits limits) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(limits.max_body_bytes);
    parser.header_limit(limits.max_header_bytes);
    stream.expires_after(limits.idle_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (read_error == http::error::body_limit || read_error == http::error::header_limit) {
      // Answer what was wrong, then close: the rest of the body is not worth reading.
      HttpRequest head = parser.release();
      head.keep_alive(false);
      const bool body = read_error == http::error::body_limit;
      auto res = error_response(
          head,
          body ? http::status::payload_too_large : http::status::request_header_fields_too_large,
          body ? "body_too_large" : "header_too_large",
          body ? "request body over " + std::to_string(limits.max_body_bytes) + " bytes"
               : "request header over " + std::to_string(limits.max_header_bytes) + " bytes");
      co_await http::async_write(stream, res, kNoThrow);
      break;
    }
    if (read_error) break;  // closed, timed out, or not HTTP: nothing to answer
    HttpRequest request = parser.release();
    if (const Router::UpgradeHandler* upgrade = router->upgrade_handler(request)) {
      co_await (*upgrade)(stream, std::move(request));
      co_return;
    }
    const bool head = request.method() == http::verb::head;
    HttpResponse response;
    if (const Router::AsyncHandler* handler = router->async_handler(request)) {
      response = co_await (*handler)(std::move(request));
    } else {
      response = router->handle(request);
    }
    if (head) response.body().clear();
    const bool keep_alive = response.keep_alive();
    auto [write_error, written] = co_await http::async_write(stream, response, kNoThrow);
    if (write_error || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace splitstream
