#include "server/tls_context.hpp"

#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace splitstream {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> make_tls_context(const ServerConfig& config) {
  if (!config.tls_http && !config.tls_devices) return nullptr;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  // TLS 1.2 and later only.
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(config.tls_cert, ec);
  if (ec) {
    throw std::runtime_error("tls-cert " + config.tls_cert +
                             ": not a readable PEM certificate chain (" + ec.message() + ")");
  }
  context->use_private_key_file(config.tls_key, asio::ssl::context::pem, ec);
  if (ec && ec.message().find("mismatch") != std::string::npos) {
    throw std::runtime_error("tls-key " + config.tls_key + " does not belong to tls-cert " +
                             config.tls_cert);
  }
  if (ec) {
    throw std::runtime_error("tls-key " + config.tls_key + ": not a readable PEM private key (" +
                             ec.message() + ")");
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw std::runtime_error("tls-key " + config.tls_key + " does not belong to tls-cert " +
                             config.tls_cert);
  }
  return context;
}

}  // namespace splitstream
