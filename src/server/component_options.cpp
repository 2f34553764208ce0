#include "server/component_options.hpp"

#include <string_view>

#include "adapters/decoder_session.hpp"
#include "api/admin_api.hpp"
#include "ingest/http_ingest.hpp"

namespace splitstream {
namespace {

DurationMs milliseconds_of(int seconds) {
  return static_cast<DurationMs>(seconds) * 1000;
}

// "a, b,,c " -> {"a", "b", "c"}.
std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace

RedisOptions redis_options(const ServerConfig& config) {
  RedisOptions o;
  o.host = config.redis_url.host;
  o.port = config.redis_url.port;
  o.username = config.redis_url.username;
  o.password = config.redis_url.password;  // the password file's when given (config.cpp)
  o.database = config.redis_url.database;
  o.tls.enabled = config.redis_url.tls.enabled;
  o.tls.ca_file = config.redis_tls_ca;
  o.tls.cert_file = config.redis_tls_cert;
  o.tls.key_file = config.redis_tls_key;
  o.tls.server_name = config.redis_tls_server_name;
  o.sentinels = config.redis_sentinels;
  o.primary_name = config.redis_primary_name;
  o.durability.mode = config.durability;
  o.durability.replicas = config.durability_replicas;
  o.durability.wait_timeout = std::chrono::milliseconds(config.durability_timeout_ms);
  // A WAIT blocks its connection up to the timeout, and commands queued behind it wait as long:
  // the command timeout (which drops the connection) must leave room for it.
  if (config.durability == DurabilityMode::replicated)
    o.command_timeout += o.durability.wait_timeout;
  return o;
}

DeviceProtocolConfig device_protocol_config(const ServerConfig& config) {
  DeviceProtocolConfig o;
  o.max_clock_skew_ms = milliseconds_of(config.max_clock_skew_s);
  o.heartbeat_interval_ms = milliseconds_of(config.heartbeat_interval_s);
  o.idle_timeout_ms = milliseconds_of(config.idle_timeout_s);
  o.max_frame_bytes = config.max_frame_bytes;
  return o;
}

std::uint32_t http_ingest_body_limit(const ServerConfig& config) {
  return config.max_body_bytes;
}

std::vector<PathBodyLimit> body_limits(const ServerConfig& config) {
  std::vector<PathBodyLimit> limits;
  limits.push_back({std::string(kReadsPath), http_ingest_body_limit(config)});
  limits.push_back({std::string(kAdminPrefix), config.max_admin_body});
  // Impinj readers post batches of tag reads like devices do.
  limits.push_back({std::string(kImpinjPathPrefix), http_ingest_body_limit(config)});
  return limits;
}

HttpLimits http_limits(const ServerConfig&) {
  return HttpLimits{};
}

WebSocketOptions websocket_options(const ServerConfig& config) {
  WebSocketOptions o;
  o.idle_timeout = std::chrono::seconds(config.ws_idle_timeout_s);
  o.max_connections = config.max_viewers;
  o.max_queue_bytes = config.viewer_queue_bytes;
  o.stall_timeout_ms = config.viewer_stall_timeout_ms;
  o.socket_send_buffer = config.viewer_socket_buffer;
  o.subscribe_rate = config.ws_subscribe_rate;
  o.subscribe_burst = config.ws_subscribe_burst;
  o.allowed_origins = split_list(config.allowed_origins);
  return o;
}

PushHubOptions push_hub_options(const ServerConfig& config) {
  PushHubOptions o;
  o.live_gate = config.live_gate;
  return o;
}

std::chrono::milliseconds push_interval(const ServerConfig& config) {
  return std::chrono::milliseconds(config.push_interval_ms);
}

std::size_t http_connections_per_address(const ServerConfig& config) {
  return config.http_connections_per_address;
}

std::size_t device_connections_per_address(const ServerConfig& config) {
  return config.device_connections_per_address;
}

std::chrono::seconds drain_timeout(const ServerConfig& config) {
  return std::chrono::seconds(config.drain_timeout_s);
}

ComponentOptions component_options(const ServerConfig& config) {
  ComponentOptions o;
  o.redis = redis_options(config);
  o.device_protocol = device_protocol_config(config);
  o.http_ingest_body_limit = http_ingest_body_limit(config);
  o.body_limits = body_limits(config);
  o.http = http_limits(config);
  o.websocket = websocket_options(config);
  o.push_hub = push_hub_options(config);
  o.push_interval = push_interval(config);
  o.http_connections_per_address = http_connections_per_address(config);
  o.device_connections_per_address = device_connections_per_address(config);
  o.drain_timeout = drain_timeout(config);
  return o;
}

LivePipelineOptions live_pipeline_options(const ServerConfig& config) {
  LivePipelineOptions o;
  o.publish_interval = push_interval(config);
  o.checkpoint_interval = std::chrono::seconds(config.checkpoint_interval_s);
  return o;
}

std::string node_name(const ServerConfig& config, std::string_view host_name,
                      std::uint16_t http_port) {
  if (!config.node_name.empty()) return config.node_name;
  return std::string(host_name.empty() ? "localhost" : host_name) + ":" + std::to_string(http_port);
}

PresenceOptions presence_options(const ServerConfig& config, std::string_view host_name,
                                 std::uint16_t http_port) {
  PresenceOptions o;
  o.node = node_name(config, host_name, http_port);
  return o;
}

}  // namespace splitstream
