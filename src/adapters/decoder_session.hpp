// The Asio shells around the vendor protocols: a RACE RESULT decoder is dialled (and redialled,
// forever, with backoff); CTP01 and MYLAPS software connects to a port of its own; Impinj
// readers post over HTTP. Each connection moves bytes between the socket and its protocol state
// machine (adapters/*_fsm), and makes every batch durable (DecoderIntake -> DecoderReadLog)
// before the protocol acknowledges it. Everything here runs on the ingest strand.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "adapters/decoder_status.hpp"
#include "http/router.hpp"
#include "ingest/device_session.hpp"
#include "store/decoder_read_log.hpp"

namespace splitstream {

// What every decoder connection shares: the device sessions' drain bookkeeping (a stopping node
// finishes the batch in flight, then closes), the read log and the fleet's status.
struct DecoderServices {
  std::shared_ptr<DeviceIngest> devices;
  DecoderReadLog& read_log;
  DecoderFleet& fleet;
};

// Dials `decoder` (raceresult) until the node drains: loads its cursors from Redis, connects,
// runs the protocol, and on any failure waits (1 s, doubling to 30 s) and dials again.
boost::asio::awaitable<void> run_raceresult_dialer(std::shared_ptr<DecoderServices> services,
                                                   Decoder* decoder);

// Accepts the timing software of `decoder` (ctp01, mylaps) until the acceptor is closed; an
// address outside the decoder's allow list is closed at once.
boost::asio::awaitable<void> run_decoder_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                                  std::shared_ptr<DecoderServices> services,
                                                  Decoder* decoder);

// POST /api/v1/impinj/<decoder id>: Speedway Connect's tag reads. The decoder's token (the device
// tokens file, under the decoder's id) comes as a bearer token, the password of basic auth or
// ?token=. Answers 200 once Redis holds the reads, so a reader that retries on failure resends.
inline constexpr std::string_view kImpinjPathPrefix = "/api/v1/impinj/";
boost::asio::awaitable<HttpResponse> handle_impinj_post(HttpRequest request,
                                                        std::shared_ptr<DecoderServices> services);

}  // namespace splitstream
