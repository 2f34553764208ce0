// Each setting of `splitstream serve` reaches the field of the component that enforces it, and
// a setting left alone gives the component its own default.
#include "server/component_options.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace splitstream {
namespace {

// The configuration `splitstream serve --event e <args>` makes, with no environment and only
// the file "redis-password" (holding "S3cr3t-pw").
ServerConfig configured(std::vector<std::string> args) {
  args.insert(args.begin(), {"--event", "e"});
  ConfigResult r = parse_server_config(
      args, [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
      [](const std::string& path) -> std::optional<std::string> {
        if (path == "redis-password") return "S3cr3t-pw\n";
        return std::nullopt;
      });
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  return r.config;
}

TEST(ComponentOptions, RedisTakesTheConfiguredServer) {
  const RedisOptions o = redis_options(configured({"--redis", "redis://10.1.2.3:6390"}));
  EXPECT_EQ(o.host, "10.1.2.3");
  EXPECT_EQ(o.port, 6390);
  EXPECT_FALSE(o.tls.enabled);
}

TEST(ComponentOptions, RedisTakesEveryRedisSetting) {
  const RedisOptions o = redis_options(configured({"--redis",
                                                   "rediss://timing:old@redis.example:6380/4",
                                                   "--redis-password-file",
                                                   "redis-password",
                                                   "--redis-tls-ca",
                                                   "ca.pem",
                                                   "--redis-tls-cert",
                                                   "c.pem",
                                                   "--redis-tls-key",
                                                   "k.pem",
                                                   "--redis-tls-server-name",
                                                   "redis.internal",
                                                   "--redis-sentinels",
                                                   "10.0.0.1:26379,10.0.0.2:26380",
                                                   "--redis-primary-name",
                                                   "mymaster",
                                                   "--durability",
                                                   "replicated",
                                                   "--durability-replicas",
                                                   "2",
                                                   "--durability-timeout",
                                                   "750"}));
  EXPECT_EQ(o.host, "redis.example");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.username, "timing");
  EXPECT_EQ(o.password, "S3cr3t-pw");  // the file's, over the URL's
  EXPECT_EQ(o.database, 4);
  EXPECT_TRUE(o.tls.enabled);
  EXPECT_EQ(o.tls.ca_file, "ca.pem");
  EXPECT_EQ(o.tls.cert_file, "c.pem");
  EXPECT_EQ(o.tls.key_file, "k.pem");
  EXPECT_EQ(o.tls.server_name, "redis.internal");
  ASSERT_EQ(o.sentinels.size(), 2u);
  EXPECT_EQ(o.sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(o.sentinels[0].port, 26379);
  EXPECT_EQ(o.sentinels[1].host, "10.0.0.2");
  EXPECT_EQ(o.sentinels[1].port, 26380);
  EXPECT_EQ(o.primary_name, "mymaster");
  EXPECT_EQ(o.durability.mode, DurabilityMode::replicated);
  EXPECT_EQ(o.durability.replicas, 2);
  EXPECT_EQ(o.durability.wait_timeout, std::chrono::milliseconds(750));
  EXPECT_EQ(describe_redis(o), "sentinel primary mymaster via 10.0.0.1:26379,10.0.0.2:26380");
}

TEST(ComponentOptions, RedisPasswordFromTheUrlWhenNoFile) {
  const RedisOptions o = redis_options(configured({"--redis", "redis://:S3cr3t-pw@r/1"}));
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.password, "S3cr3t-pw");
  EXPECT_EQ(o.database, 1);
  EXPECT_EQ(describe_redis(o), "redis://r:6379/1");
}

TEST(ComponentOptions, RedisTakesTheDurabilitySettings) {
  RedisOptions o = redis_options(configured({}));
  EXPECT_EQ(o.durability.mode, DurabilityMode::local);
  EXPECT_EQ(o.durability.replicas, 1);
  EXPECT_EQ(o.durability.wait_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(o.command_timeout, RedisOptions{}.command_timeout);
  o = redis_options(configured({"--durability", "fsync"}));
  EXPECT_EQ(o.durability.mode, DurabilityMode::fsync);
  o = redis_options(configured(
      {"--durability", "replicated", "--durability-replicas", "2", "--durability-timeout", "250"}));
  EXPECT_EQ(o.durability.mode, DurabilityMode::replicated);
  EXPECT_EQ(o.durability.replicas, 2);
  EXPECT_EQ(o.durability.wait_timeout, std::chrono::milliseconds(250));
  // A WAIT holds its connection up to the timeout: commands behind it get that much longer.
  EXPECT_EQ(o.command_timeout, RedisOptions{}.command_timeout + std::chrono::milliseconds(250));
}

TEST(ComponentOptions, DurabilitySettingsOutOfRangeAreRefused) {
  ConfigResult r = parse_server_config(
      {"--event", "e", "--durability", "paranoid", "--durability-replicas", "0",
       "--durability-timeout", "60001"},
      [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
      [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0],
            "--durability: durability: expected local, fsync or replicated, not \"paranoid\"");
  EXPECT_EQ(r.errors[1],
            "--durability-replicas: durability-replicas: expected a whole number from 1 to 16, "
            "not \"0\"");
  EXPECT_EQ(r.errors[2],
            "--durability-timeout: durability-timeout: expected a whole number from 10 to 60000, "
            "not \"60001\"");
}

TEST(ComponentOptions, DeviceProtocolTakesTheDeviceSettingsInMilliseconds) {
  const DeviceProtocolConfig o =
      device_protocol_config(configured({"--max-clock-skew", "7", "--heartbeat", "3",
                                         "--idle-timeout", "11", "--max-frame", "300000"}));
  EXPECT_EQ(o.max_clock_skew_ms, 7'000);
  EXPECT_EQ(o.heartbeat_interval_ms, 3'000);
  EXPECT_EQ(o.idle_timeout_ms, 11'000);
  EXPECT_EQ(o.max_frame_bytes, 300'000u);
}

TEST(ComponentOptions, MaxBodyIsTheReadsPathsLimitForTheRouterAndTheJsonParser) {
  const ServerConfig config = configured({"--max-body", "4194304", "--max-admin-body", "2048"});
  EXPECT_EQ(http_ingest_body_limit(config), 4'194'304u);
  const std::vector<PathBodyLimit> limits = body_limits(config);
  ASSERT_EQ(limits.size(), 3u);
  EXPECT_EQ(limits[0].prefix, "/api/v1/reads");
  EXPECT_EQ(limits[0].bytes, 4'194'304u);
  EXPECT_EQ(limits[1].prefix, "/api/v1/admin/");
  EXPECT_EQ(limits[1].bytes, 2'048u);
  // Impinj readers' posts take what devices' do.
  EXPECT_EQ(limits[2].prefix, "/api/v1/impinj/");
  EXPECT_EQ(limits[2].bytes, 4'194'304u);
}

TEST(ComponentOptions, WebSocketViewersTakeTheirSettings) {
  const WebSocketOptions o = websocket_options(configured(
      {"--ws-idle-timeout", "9", "--max-viewers", "12", "--viewer-queue-bytes", "8192",
       "--viewer-socket-buffer", "65536", "--ws-subscribe-rate", "2", "--ws-subscribe-burst", "4",
       "--allowed-origins", " https://a.example ,,https://b.example:8443 "}));
  EXPECT_EQ(o.idle_timeout, std::chrono::seconds(9));
  EXPECT_EQ(o.max_connections, 12u);
  EXPECT_EQ(o.max_queue_bytes, 8'192u);
  EXPECT_EQ(o.socket_send_buffer, 65'536);
  EXPECT_EQ(o.subscribe_rate, 2.0);
  EXPECT_EQ(o.subscribe_burst, 4.0);
  EXPECT_EQ(o.allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example:8443"}));
}

TEST(ComponentOptions, ConnectionLimitsPushIntervalAndDrainTimeout) {
  const ServerConfig config =
      configured({"--http-connections-per-address", "3", "--device-connections-per-address", "0",
                  "--push-interval", "250", "--drain-timeout", "4"});
  EXPECT_EQ(http_connections_per_address(config), 3u);
  EXPECT_EQ(device_connections_per_address(config), 0u);  // 0: no limit
  EXPECT_EQ(push_interval(config), std::chrono::milliseconds(250));
  EXPECT_EQ(drain_timeout(config), std::chrono::seconds(4));
}

TEST(ComponentOptions, PresenceNamesTheNodeByHostAndPortUnlessNamed) {
  const ServerConfig unnamed = configured({});
  EXPECT_EQ(unnamed.clock_warn_ms, 2000);
  EXPECT_EQ(node_name(unnamed, "timing-1", 8081), "timing-1:8081");
  EXPECT_EQ(node_name(unnamed, "", 8081), "localhost:8081");  // no host name to be had
  const PresenceOptions o = presence_options(
      configured({"--node-name", "finish tent", "--clock-warn-ms", "500"}), "timing-1", 8081);
  EXPECT_EQ(o.node, "finish tent");
  EXPECT_EQ(o.interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(o.ttl_ms, 10'000);
  EXPECT_EQ(configured({"--clock-warn-ms", "500"}).clock_warn_ms, 500);
}

TEST(ComponentOptions, ThePushHubTakesTheLiveGate) {
  EXPECT_TRUE(push_hub_options(configured({})).live_gate);  // on unless told
  EXPECT_FALSE(push_hub_options(configured({"--live-gate", "off"})).live_gate);
  EXPECT_TRUE(push_hub_options(configured({"--live-gate", "on"})).live_gate);
  EXPECT_FALSE(component_options(configured({"--live-gate", "off"})).push_hub.live_gate);
}

TEST(ComponentOptions, AllAtOnceAreTheSameAsOneByOne) {
  const ServerConfig config =
      configured({"--redis", "redis://10.1.2.3:6390", "--heartbeat", "3", "--max-body", "2097152",
                  "--max-viewers", "12", "--push-interval", "250", "--drain-timeout", "4",
                  "--http-connections-per-address", "3", "--device-connections-per-address", "5"});
  const ComponentOptions o = component_options(config);
  EXPECT_EQ(o.redis.host, "10.1.2.3");
  EXPECT_EQ(o.device_protocol.heartbeat_interval_ms, 3'000);
  EXPECT_EQ(o.http_ingest_body_limit, 2'097'152u);
  ASSERT_EQ(o.body_limits.size(), 3u);
  EXPECT_EQ(o.body_limits[0].bytes, 2'097'152u);
  EXPECT_EQ(o.websocket.max_connections, 12u);
  EXPECT_EQ(o.push_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(o.http_connections_per_address, 3u);
  EXPECT_EQ(o.device_connections_per_address, 5u);
  EXPECT_EQ(o.drain_timeout, std::chrono::seconds(4));
}

// ServerConfig takes these defaults from the components' structs; this shows the round trip
// through seconds and narrower types loses nothing.
TEST(ComponentOptions, SettingsLeftAloneGiveEachComponentItsOwnDefaults) {
  const ComponentOptions o = component_options(configured({}));
  const RedisOptions redis;
  EXPECT_EQ(o.redis.host, redis.host);
  EXPECT_EQ(o.redis.port, redis.port);
  EXPECT_EQ(o.redis.username, redis.username);
  EXPECT_EQ(o.redis.password, redis.password);
  EXPECT_EQ(o.redis.database, redis.database);
  EXPECT_EQ(o.redis.tls.enabled, redis.tls.enabled);
  EXPECT_TRUE(o.redis.sentinels.empty());
  EXPECT_EQ(o.redis.durability.mode, redis.durability.mode);
  EXPECT_EQ(o.redis.durability.replicas, redis.durability.replicas);
  EXPECT_EQ(o.redis.durability.wait_timeout, redis.durability.wait_timeout);
  EXPECT_EQ(o.redis.connect_timeout, redis.connect_timeout);
  EXPECT_EQ(o.redis.command_timeout, redis.command_timeout);
  const DeviceProtocolConfig protocol;
  EXPECT_EQ(o.device_protocol.max_clock_skew_ms, protocol.max_clock_skew_ms);
  EXPECT_EQ(o.device_protocol.heartbeat_interval_ms, protocol.heartbeat_interval_ms);
  EXPECT_EQ(o.device_protocol.idle_timeout_ms, protocol.idle_timeout_ms);
  EXPECT_EQ(o.device_protocol.max_frame_bytes, protocol.max_frame_bytes);
  EXPECT_EQ(o.http_ingest_body_limit, ReadBatchJsonLimits{}.max_body_bytes);
  const WebSocketOptions ws;
  EXPECT_EQ(o.websocket.idle_timeout, ws.idle_timeout);
  EXPECT_EQ(o.websocket.max_connections, ws.max_connections);
  EXPECT_EQ(o.websocket.max_queue_bytes, ws.max_queue_bytes);
  EXPECT_EQ(o.websocket.socket_send_buffer, ws.socket_send_buffer);
  EXPECT_EQ(o.websocket.subscribe_rate, ws.subscribe_rate);
  EXPECT_EQ(o.websocket.subscribe_burst, ws.subscribe_burst);
  EXPECT_TRUE(o.websocket.allowed_origins.empty());  // any Origin
  // The values `splitstream serve --help` shows (the viewer queue's bytes lowered from 16 MiB,
  // with the stall cut-off beside them, in issue 18).
  EXPECT_EQ(o.device_protocol.max_clock_skew_ms, 300'000);
  EXPECT_EQ(o.device_protocol.heartbeat_interval_ms, 10'000);
  EXPECT_EQ(o.device_protocol.idle_timeout_ms, 30'000);
  EXPECT_EQ(o.device_protocol.max_frame_bytes, 1u << 20);
  EXPECT_EQ(o.http_ingest_body_limit, 1u << 20);
  EXPECT_EQ(o.websocket.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(o.websocket.max_connections, 50'000u);
  EXPECT_EQ(o.websocket.max_queue_bytes, 4u << 20);
  EXPECT_EQ(o.websocket.max_queue_frames, 1024u);
  EXPECT_EQ(o.websocket.stall_timeout_ms, 5000);
  EXPECT_EQ(o.websocket.socket_send_buffer, 256 * 1024);
  EXPECT_EQ(o.websocket.subscribe_rate, 5.0);
  EXPECT_EQ(o.websocket.subscribe_burst, 20.0);
}

}  // namespace
}  // namespace splitstream
