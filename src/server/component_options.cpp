#include "server/component_options.hpp"

#include <string_view>

namespace splitstream {

RedisOptions redis_options(const ServerConfig& config) {
  RedisOptions o;
  o.host = config.redis_host;
  o.port = config.redis_port;
  return o;
}

DeviceProtocolConfig device_protocol_config(const ServerConfig& config) {
  DeviceProtocolConfig p;
  p.max_clock_skew_ms = static_cast<DurationMs>(config.max_clock_skew_s) * 1000;
  p.heartbeat_interval_ms = static_cast<DurationMs>(config.heartbeat_interval_s) * 1000;
  p.idle_timeout_ms = static_cast<DurationMs>(config.idle_timeout_s) * 1000;
  p.max_frame_bytes = config.max_frame_bytes;
  return p;
}

WebSocketOptions websocket_options(const ServerConfig& config) {
  WebSocketOptions o;
  o.idle_timeout = std::chrono::seconds(config.ws_idle_timeout_s);
  o.max_connections = config.max_viewers;
  o.max_queue_bytes = config.viewer_queue_bytes;
  o.socket_send_buffer = config.viewer_socket_buffer;
  o.subscribe_rate = config.ws_subscribe_rate;
  o.subscribe_burst = config.ws_subscribe_burst;
  std::string_view list = config.allowed_origins;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty()) o.allowed_origins.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return o;
}

HttpLimits http_limits(const ServerConfig&) {
  return HttpLimits{};
}

BodyLimits body_limits(const ServerConfig& config) {
  BodyLimits b;
  b.device_batch = config.max_body_bytes;
  b.admin = config.max_admin_body;
  return b;
}

LivePipelineOptions live_pipeline_options(const ServerConfig& config) {
  LivePipelineOptions o;
  o.publish_interval = std::chrono::milliseconds(config.push_interval_ms);
  return o;
}

}  // namespace splitstream
