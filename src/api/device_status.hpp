// GET /api/v1/devices: each device of the event with its counters from Redis (shared by every
// node) and whether it is connected to this node; each vendor decoder (decoders.json) with what
// this node sees of it and what Redis holds of it; the gun markers the timing software sent. Each
// device and decoder also carries its presence: what the node holding it published
// (api/presence_publisher), whichever node that is, or null.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>

#include "adapters/decoder_session.hpp"
#include "http/http_message.hpp"
#include "ingest/device_session.hpp"
#include "store/key_schema.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

// On the ingest strand (the connection `redis` runs there).
boost::asio::awaitable<HttpResponse> device_status(HttpRequest request,
                                                   std::shared_ptr<DeviceIngest> ingest,
                                                   std::shared_ptr<DecoderServices> decoders,
                                                   std::shared_ptr<RedisConnection> redis,
                                                   KeySchema keys, DurationMs clock_warn_ms);

}  // namespace splitstream
