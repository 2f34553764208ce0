// Settings of `splitstream serve`: each defined once, read from (later wins) its default, a
// config file of `key = value` lines, the environment (SPLITSTREAM_<KEY>) and command-line
// flags (--key value). Pure: the caller passes the environment and the file's text.
//
// A setting of a component takes its default from the component's options, where it is written
// once; server/component_options.hpp turns the settings back into those options.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/device_protocol.hpp"
#include "ingest/read_batch_json.hpp"
#include "push/push_hub.hpp"
#include "push/websocket_session.hpp"
#include "store/redis_options.hpp"

namespace splitstream {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

struct ServerConfig {
  std::string event_dir;
  // What --redis says (store/redis_url.hpp): host, port, username, password, database and
  // tls.enabled; the password is the first line of --redis-password-file when that is given.
  // Shown only through describe_redis(), which leaves the password out.
  RedisOptions redis_url;
  std::string redis_password_file;
  // TLS to Redis (a rediss:// URL): PEM files, and the name its certificate must carry.
  std::string redis_tls_ca;
  std::string redis_tls_cert;
  std::string redis_tls_key;
  std::string redis_tls_server_name;
  // Sentinel: the primary is whichever these name redis_primary_name (both or neither).
  std::vector<RedisAddress> redis_sentinels;
  std::string redis_primary_name;
  // What a device's Ack promises (store/redis_options.hpp, docs/redis.md "Durability").
  DurabilityMode durability = DurabilityOptions{}.mode;
  int durability_replicas = DurabilityOptions{}.replicas;
  int durability_timeout_ms = static_cast<int>(DurabilityOptions{}.wait_timeout.count());
  Endpoint http{"0.0.0.0", 8080};
  Endpoint devices{"0.0.0.0", 7070};
  std::string device_tokens_file;  // lines "device-id token"; SPLITSTREAM_DEVICE_TOKENS too
  int threads = 2;
  int max_clock_skew_s = static_cast<int>(DeviceProtocolConfig{}.max_clock_skew_ms / 1000);
  int heartbeat_interval_s = static_cast<int>(DeviceProtocolConfig{}.heartbeat_interval_ms / 1000);
  int idle_timeout_s = static_cast<int>(DeviceProtocolConfig{}.idle_timeout_ms / 1000);
  int drain_timeout_s = 10;  // on SIGTERM: longest wait for batches in flight and state writes
  std::uint32_t max_frame_bytes = DeviceProtocolConfig{}.max_frame_bytes;
  // POST /api/v1/reads, JSON or Protobuf.
  std::uint32_t max_body_bytes = static_cast<std::uint32_t>(ReadBatchJsonLimits{}.max_body_bytes);
  std::string log_level = "info";
  std::string log_format = "text";  // text or json (one JSON object per line)
  bool ingest_role = true;          // device port and POST /api/v1/reads
  bool push_role = true;            // /ws and the REST API
  std::string allowed_origins;      // comma-separated; empty: any Origin on /ws
  int ws_idle_timeout_s = static_cast<int>(WebSocketOptions{}.idle_timeout.count());
  int push_interval_ms = 50;       // at most one update per subscription this often
  int checkpoint_interval_s = 30;  // a checkpoint to Redis this often (0: none written or loaded)
  // Public outputs show nothing of a race before its earliest gun (push/live_gate.hpp).
  bool live_gate = PushHubOptions{}.live_gate;
  // The console's clock: auto, wall or race (api/console_api.hpp, console_now()).
  std::string console_clock = "auto";
  std::uint32_t max_viewers = static_cast<std::uint32_t>(WebSocketOptions{}.max_connections);
  // Bytes queued for a viewer; one further behind is closed.
  std::uint32_t viewer_queue_bytes = static_cast<std::uint32_t>(WebSocketOptions{}.max_queue_bytes);
  int viewer_stall_timeout_ms = static_cast<int>(WebSocketOptions{}.stall_timeout_ms);
  // The kernel's send buffer per viewer.
  int viewer_socket_buffer = WebSocketOptions{}.socket_send_buffer;
  std::string web_root;         // the built browser app; empty: see resolve_web_root
  std::string map_tiles;        // Leaflet tile URL template ({z}/{x}/{y}); empty: no tiles
  std::string map_attribution;  // shown on the map with the tiles
  // TLS from PEM files: `tls` says which listeners use it (auto: both when tls_cert is set).
  std::string tls_cert;
  std::string tls_key;
  std::string tls = "auto";
  bool tls_http = false;          // resolved from the three above
  bool tls_devices = false;       // resolved from the three above
  std::string admin_token_file;   // the official `admin`'s token; SPLITSTREAM_ADMIN_TOKEN too
  std::string officials_file;     // lines "<role> <token> <name...>"
  int session_ttl_s = 12 * 3600;  // how long a signed-in console session lasts
  std::uint32_t max_admin_body = 64 * 1024;
  // Connections one client address may hold (0: no limit). Behind a load balancer every
  // connection comes from its address: set 0 here and limit at the balancer.
  std::uint32_t http_connections_per_address = 256;
  std::uint32_t device_connections_per_address = 64;
  // Subscribe/unsubscribe messages per second per viewer, after a burst of ws_subscribe_burst.
  int ws_subscribe_rate = static_cast<int>(WebSocketOptions{}.subscribe_rate);
  int ws_subscribe_burst = static_cast<int>(WebSocketOptions{}.subscribe_burst);
  // Device presence (GET /api/v1/devices): this node's name in what it publishes (empty:
  // hostname:http-port), and the device clock offset beyond which a device is flagged.
  std::string node_name;
  int clock_warn_ms = 2000;
  // A device silent this long while its timing point expects runners is an alert.
  int silent_after_s = 120;
};

struct ConfigResult {
  ServerConfig config;
  std::vector<std::string> errors;  // each names the source and the setting
  bool help = false;
};

// `args` are the flags after `serve`; `env` looks up an environment variable; `read_file`
// returns the text of a file, the --config file's and --redis-password-file's (nullopt when
// unreadable).
ConfigResult parse_server_config(
    const std::vector<std::string>& args,
    const std::function<std::optional<std::string>(const std::string&)>& env,
    const std::function<std::optional<std::string>(const std::string&)>& read_file);

// The --help text: every setting with its flag, variable, default and meaning.
std::string server_config_help();

// Where the browser app is served from: --web-root when given (std::runtime_error naming the
// directory when it holds no index.html), else `<executable's directory>/../../web/dist` when
// that holds index.html (build/bin/splitstream in a checkout), else nullopt: no app. Unlike the
// rest of this file it looks at the filesystem.
std::optional<std::filesystem::path> resolve_web_root(const std::string& configured,
                                                      const std::filesystem::path& executable);

// Null when `url` is a usable tile URL template (http://, https:// or /, with {z}, {x} and {y});
// else what is wrong with it.
std::optional<std::string> tile_url_problem(std::string_view url);

// A --session-ttl: whole hours ("12"), or a whole number with a unit: "90s", "30m", "12h";
// from 1 second to 30 days. Nullopt otherwise.
std::optional<int> parse_session_ttl(std::string_view text);

std::optional<Endpoint> parse_endpoint(std::string_view text);

}  // namespace splitstream
