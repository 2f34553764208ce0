// The vendor decoders of a node with the ingest role, as one service for the composition root:
// opens a port per CTP01 / MYLAPS decoder (at construction: a port in use fails start-up),
// dials every RACE RESULT decoder, and takes Impinj posts through services(). All on the ingest
// strand, beside the device sessions, sharing their Redis connection and their drain.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/decoder_session.hpp"

namespace splitstream {

class DecoderService {
 public:
  using Completion = std::function<void(std::exception_ptr)>;

  // `decoders`, `event` and `devices` must outlive the service. Throws std::runtime_error naming
  // the decoder when its port cannot be opened.
  DecoderService(boost::asio::any_io_executor ingest_strand, const Event& event,
                 const std::vector<DecoderConfig>& decoders, std::shared_ptr<DeviceIngest> devices,
                 std::shared_ptr<RedisConnection> redis, const KeySchema& keys);

  // Spawns the dialers and listeners; `completion(what)` handles each one's end.
  void start(const std::function<Completion(const char* what)>& completion);
  // Closes the listening ports (on the ingest strand): the first step of a drain. Connections
  // and dialers end through the devices' drain.
  void stop_accepting();

  const std::shared_ptr<DecoderServices>& services() const { return services_; }
  // "ctp01 finish-ct on 0.0.0.0:61611, ..." for the start-up log line; empty without decoders.
  std::string describe() const;

 private:
  boost::asio::any_io_executor strand_;
  std::unique_ptr<DecoderReadLog> read_log_;
  std::unique_ptr<DecoderFleet> fleet_;
  std::shared_ptr<DecoderServices> services_;
  struct Listener {
    Decoder* decoder;
    boost::asio::ip::tcp::acceptor acceptor;
  };
  std::vector<std::unique_ptr<Listener>> listeners_;
};

}  // namespace splitstream
