// Each component's options built from the node's settings, in one place: a limit set in
// ServerConfig reaches the code that enforces it through these functions and no other path.
#pragma once

#include "api/routes.hpp"
#include "http/http_listener.hpp"
#include "ingest/device_protocol.hpp"
#include "pipeline/live_pipeline.hpp"
#include "push/websocket_session.hpp"
#include "server/config.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

RedisOptions redis_options(const ServerConfig& config);
DeviceProtocolConfig device_protocol_config(const ServerConfig& config);
WebSocketOptions websocket_options(const ServerConfig& config);
HttpLimits http_limits(const ServerConfig& config);
BodyLimits body_limits(const ServerConfig& config);
LivePipelineOptions live_pipeline_options(const ServerConfig& config);

}  // namespace splitstream
