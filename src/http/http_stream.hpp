// The connection under an HTTP session, plain TCP or TLS, as a protocol upgrade (WebSocket)
// takes it over. Heavy (Beast streams, OpenSSL): only the sessions include it.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <variant>

namespace splitstream {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Declared in http/router.hpp, so that a route table needs none of the above.
struct HttpStreamRef {
  std::variant<PlainStream*, TlsStream*> stream;
};

}  // namespace splitstream
