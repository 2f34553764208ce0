#include "http/http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>

#include "http/http_stream.hpp"
#include "observe/server_metrics.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

HttpStreamRef ref(PlainStream& s) {
  return HttpStreamRef{&s};
}
HttpStreamRef ref(TlsStream& s) {
  return HttpStreamRef{&s};
}

// Requests on one connection until it closes. True when the stream is still ours to close
// (false: an upgrade took it).
// GCC 12 with the sanitizers and optimisation on (-DSPLITSTREAM_SANITIZE=ON at -O1 or -O2) takes
// Asio's coroutine frame allocator, inlined into this coroutine, for a mismatched new/delete: a
// false positive, silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
template <typename Stream>
asio::awaitable<bool> serve(Stream& stream, const Router& router, const HttpLimits& limits,
                            std::shared_ptr<void>& hold) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(limits.max_header_bytes);
    // No body limit while the header is read: the path decides it, checked just after.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::get_lowest_layer(stream).expires_after(limits.idle_timeout);
    auto [head_error, head_bytes] =
        co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    std::uint32_t body_limit = limits.max_body_bytes;
    boost::system::error_code read_error = head_error;
    if (!read_error) {
      body_limit = router.body_limit(parser.get().target(), limits.max_body_bytes);
      const auto length = parser.content_length();
      if (length && *length > body_limit) {
        read_error = http::error::body_limit;
      } else {
        parser.body_limit(body_limit);  // chunked bodies are checked as they come
        if (!parser.is_done()) {
          auto [body_error, body_bytes] =
              co_await http::async_read(stream, buffer, parser, kNoThrow);
          read_error = body_error;
        }
      }
    }
    if (read_error == http::error::body_limit || read_error == http::error::header_limit) {
      // Answer what was wrong, then close: the rest of the body is not worth reading.
      HttpRequest head = parser.release();
      head.keep_alive(false);
      const bool body = read_error == http::error::body_limit;
      auto res = error_response(
          head,
          body ? http::status::payload_too_large : http::status::request_header_fields_too_large,
          body ? "body_too_large" : "header_too_large",
          body ? "request body over " + std::to_string(body_limit) + " bytes for " +
                     std::string(head.target().substr(0, head.target().find('?')))
               : "request header over " + std::to_string(limits.max_header_bytes) + " bytes");
      metrics::http_responses(res.result_int()).inc();
      co_await http::async_write(stream, res, kNoThrow);
      co_return true;
    }
    if (read_error) co_return true;  // closed, timed out, or not HTTP: nothing to answer
    HttpRequest request = parser.release();
    if (const Router::UpgradeHandler* upgrade = router.upgrade_handler(request)) {
      co_await (*upgrade)(ref(stream), std::move(request), std::move(hold));
      co_return false;
    }
    const bool head = request.method() == http::verb::head;
    HttpResponse response;
    if (const Router::AsyncHandler* handler = router.async_handler(request)) {
      response = co_await (*handler)(std::move(request));
    } else {
      response = router.handle(request);
    }
    if (head) response.body().clear();
    metrics::http_responses(response.result_int()).inc();
    const bool keep_alive = response.keep_alive();
    auto [write_error, written] = co_await http::async_write(stream, response, kNoThrow);
    if (write_error || !keep_alive) co_return true;
  }
}
#pragma GCC diagnostic pop

}  // namespace

asio::awaitable<void> run_http_session(asio::ip::tcp::socket socket,
                                       std::shared_ptr<const Router> router, HttpLimits limits,
                                       std::shared_ptr<void> hold,
                                       std::shared_ptr<asio::ssl::context> tls) {
  beast::error_code ignored;
  if (!tls) {
    PlainStream stream(std::move(socket));
    if (co_await serve(stream, *router, limits, hold))
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    co_return;
  }
  TlsStream stream(std::move(socket), *tls);
  beast::get_lowest_layer(stream).expires_after(limits.handshake_timeout);
  auto [handshake_error] =
      co_await stream.async_handshake(asio::ssl::stream_base::server, kNoThrow);
  if (handshake_error) co_return;  // not TLS, a bad certificate on the client's side, or slow
  if (co_await serve(stream, *router, limits, hold)) {
    beast::get_lowest_layer(stream).expires_after(limits.handshake_timeout);
    co_await stream.async_shutdown(kNoThrow);
  }
}

}  // namespace splitstream
