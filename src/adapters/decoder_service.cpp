#include "adapters/decoder_service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <stdexcept>

namespace splitstream {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

tcp::acceptor open_decoder_port(asio::any_io_executor executor, const DecoderConfig& d) {
  boost::system::error_code ec;
  const std::string host = d.listen->host == "localhost" ? "127.0.0.1" : d.listen->host;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("decoder " + d.id + ": bad listen address \"" + host + "\"");
  tcp::acceptor acceptor(executor);
  const tcp::endpoint endpoint(address, d.listen->port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("decoder " + d.id + ": cannot listen on " + d.listen->host + ":" +
                             std::to_string(d.listen->port) + ": " + ec.message());
  }
  return acceptor;
}

}  // namespace

DecoderService::DecoderService(asio::any_io_executor ingest_strand, const Event& event,
                               const std::vector<DecoderConfig>& decoders,
                               std::shared_ptr<DeviceIngest> devices,
                               std::shared_ptr<RedisConnection> redis, const KeySchema& keys)
    : strand_(std::move(ingest_strand)),
      read_log_(std::make_unique<DecoderReadLog>(std::move(redis), keys)),
      fleet_(std::make_unique<DecoderFleet>(event, decoders, devices->protocol.max_clock_skew_ms)) {
  services_ =
      std::make_shared<DecoderServices>(DecoderServices{std::move(devices), *read_log_, *fleet_});
  for (const auto& decoder : fleet_->all()) {
    if (!decoder->config.listen) continue;
    listeners_.push_back(std::make_unique<Listener>(
        Listener{decoder.get(), open_decoder_port(strand_, decoder->config)}));
  }
}

void DecoderService::start(const std::function<Completion(const char* what)>& completion) {
  for (const auto& decoder : fleet_->all()) {
    if (decoder->config.protocol != DecoderProtocolKind::raceresult) continue;
    asio::co_spawn(strand_, run_raceresult_dialer(services_, decoder.get()),
                   completion("raceresult dialer"));
  }
  for (const auto& listener : listeners_) {
    asio::co_spawn(strand_, run_decoder_listener(listener->acceptor, services_, listener->decoder),
                   completion("decoder listener"));
  }
}

void DecoderService::stop_accepting() {
  for (const auto& listener : listeners_) {
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
  }
}

std::string DecoderService::describe() const {
  std::string out;
  for (const auto& decoder : fleet_->all()) {
    const DecoderConfig& c = decoder->config;
    if (!out.empty()) out += ", ";
    out += std::string(to_string(c.protocol)) + " " + c.id;
    if (c.dial) out += " dialling " + c.dial->host + ":" + std::to_string(c.dial->port);
    if (c.listen) out += " on " + c.listen->host + ":" + std::to_string(c.listen->port);
    if (c.protocol == DecoderProtocolKind::impinj)
      out += " posting to " + std::string(kImpinjPathPrefix) + c.id;
  }
  return out;
}

}  // namespace splitstream
