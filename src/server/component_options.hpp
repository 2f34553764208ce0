// Every component's options built from the configuration, in one place: run_server builds
// each component from these functions, and tests/unit/component_options_test.cpp shows that
// each setting reaches the field that enforces it. The defaults are the components' own
// (ServerConfig takes its defaults from their structs), so a setting left alone gives a
// component what it would have had unconfigured.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "api/presence_publisher.hpp"
#include "http/http_listener.hpp"
#include "http/router.hpp"
#include "ingest/device_protocol.hpp"
#include "pipeline/live_pipeline.hpp"
#include "push/push_hub.hpp"
#include "push/websocket_session.hpp"
#include "server/config.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

// Every Redis connection of the node (ingest, follower, materializer): where (--redis, or the
// sentinels), as whom, TLS, and the durability mode.
RedisOptions redis_options(const ServerConfig& config);
// The device session protocol, on TCP and for POST /api/v1/reads.
DeviceProtocolConfig device_protocol_config(const ServerConfig& config);
// The largest body of POST /api/v1/reads: the router's limit for the path and the JSON batch
// parser's (DeviceIngest's max_http_body_bytes), one number so that a JSON batch is taken
// exactly when the same batch as Protobuf is.
std::uint32_t http_ingest_body_limit(const ServerConfig& config);
// Request body limits by path: device batches may be large, admin corrections are small; the
// rest of the API takes http_limits().max_body_bytes.
std::vector<PathBodyLimit> body_limits(const ServerConfig& config);
// The HTTP listener's limits (no setting of their own yet: the defaults).
HttpLimits http_limits(const ServerConfig& config);
// WebSocket viewers (/ws), allowed_origins split from its comma-separated list.
WebSocketOptions websocket_options(const ServerConfig& config);
// The push hub: the live gate (--live-gate).
PushHubOptions push_hub_options(const ServerConfig& config);
// Live updates go out at most this often per subscription.
std::chrono::milliseconds push_interval(const ServerConfig& config);
LivePipelineOptions live_pipeline_options(const ServerConfig& config);
// Connections one client address may hold on each listener (0: no limit), for
// ConnectionLimiter::create.
std::size_t http_connections_per_address(const ServerConfig& config);
std::size_t device_connections_per_address(const ServerConfig& config);
// On SIGTERM: the longest wait for batches in flight and state writes.
std::chrono::seconds drain_timeout(const ServerConfig& config);

// The presence publisher: --node-name, else `host_name:http_port` (the port the HTTP listener
// got, which differs from the setting's when that is 0).
std::string node_name(const ServerConfig& config, std::string_view host_name,
                      std::uint16_t http_port);
PresenceOptions presence_options(const ServerConfig& config, std::string_view host_name,
                                 std::uint16_t http_port);

// All of the above at once.
struct ComponentOptions {
  RedisOptions redis;
  DeviceProtocolConfig device_protocol;
  std::uint32_t http_ingest_body_limit = 0;
  std::vector<PathBodyLimit> body_limits;
  HttpLimits http;
  WebSocketOptions websocket;
  PushHubOptions push_hub;
  std::chrono::milliseconds push_interval{0};
  std::size_t http_connections_per_address = 0;
  std::size_t device_connections_per_address = 0;
  std::chrono::seconds drain_timeout{0};
};

ComponentOptions component_options(const ServerConfig& config);

}  // namespace splitstream
