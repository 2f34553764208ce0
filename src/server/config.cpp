#include "server/config.hpp"

#include <charconv>
#include <stdexcept>

#include "core/csv.hpp"
#include "store/redis_url.hpp"

namespace splitstream {
namespace {

template <typename T>
std::optional<T> parse_number(std::string_view s, T min, T max) {
  T v{};
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

// One setting: its name (the flag without --, the file key, and the variable's suffix), its
// help, how to print its default and how to store a value. `apply` returns an error text.
struct Setting {
  const char* name;
  const char* help;
  std::function<std::string(const ServerConfig&)> show;
  std::function<std::optional<std::string>(ServerConfig&, std::string_view)> apply;
};

Setting text(const char* name, const char* help, std::string ServerConfig::*field) {
  return {name, help, [field](const ServerConfig& c) { return c.*field; },
          [field](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
            c.*field = std::string(v);
            return std::nullopt;
          }};
}

template <typename T>
Setting number(const char* name, const char* help, T ServerConfig::*field, T min, T max) {
  return {name, help, [field](const ServerConfig& c) { return std::to_string(c.*field); },
          [=](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
            auto n = parse_number<T>(v, min, max);
            if (!n) {
              return "expected a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not \"" + std::string(v) + "\"";
            }
            c.*field = *n;
            return std::nullopt;
          }};
}

Setting endpoint(const char* name, const char* help, Endpoint ServerConfig::*field) {
  return {name, help,
          [field](const ServerConfig& c) {
            return (c.*field).host + ":" + std::to_string((c.*field).port);
          },
          [field](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
            auto e = parse_endpoint(v);
            if (!e) return "expected HOST:PORT, not \"" + std::string(v) + "\"";
            c.*field = *e;
            return std::nullopt;
          }};
}

// "10.0.0.1:26379,[::1]:26380": the sentinels, each HOST:PORT; empty: none.
std::optional<std::vector<RedisAddress>> parse_sentinels(std::string_view list) {
  std::vector<RedisAddress> sentinels;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    const auto at = parse_endpoint(item);
    if (!at || at->port == 0) return std::nullopt;
    sentinels.push_back({at->host, at->port});
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return sentinels;
}

std::string show_sentinels(const std::vector<RedisAddress>& sentinels) {
  std::string out;
  for (const RedisAddress& s : sentinels) {
    if (!out.empty()) out += ",";
    const bool ipv6 = s.host.find(':') != std::string::npos;
    out += (ipv6 ? "[" + s.host + "]" : s.host) + ":" + std::to_string(s.port);
  }
  return out;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      text("event", "event directory (event.json, participants.csv, courses)",
           &ServerConfig::event_dir),
      {"redis",
       "the Redis server: redis://[USER[:PASSWORD]@]HOST[:PORT][/DB], or rediss://... for TLS; "
       "an IPv6 address in brackets; in the user or password write @ as %40, : as %3A and % as "
       "%25. The password is never shown (logs, /readyz, errors, this help)",
       [](const ServerConfig& c) { return describe_redis(c.redis_url); },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         // The value is echoed with its password masked, whatever is wrong with it.
         if (auto error = parse_redis_url(v, c.redis_url))
           return "\"" + redact_redis_url(v) + "\": " + *error;
         return std::nullopt;
       }},
      text("redis-password-file",
           "file whose first line is the Redis password (AUTH); over a password in --redis",
           &ServerConfig::redis_password_file),
      text("redis-tls-ca",
           "CA certificates (PEM file) Redis's certificate must chain to, with rediss:// "
           "[default: the system's trust store]",
           &ServerConfig::redis_tls_ca),
      text("redis-tls-cert",
           "client certificate (PEM file) presented to Redis, with --redis-tls-key and rediss://",
           &ServerConfig::redis_tls_cert),
      text("redis-tls-key", "private key (PEM file) of --redis-tls-cert",
           &ServerConfig::redis_tls_key),
      text("redis-tls-server-name",
           "the name Redis's certificate must carry, also sent as SNI, with rediss:// [default: "
           "the host connected to: --redis's, or the one the sentinels or a -MOVED name]",
           &ServerConfig::redis_tls_server_name),
      {"redis-sentinels",
       "Sentinel addresses HOST:PORT,HOST:PORT,...: the Redis primary is whichever they name "
       "--redis-primary-name (asked again after a failover), and the host and port of --redis "
       "are unused (its user, password, database and scheme apply). Sentinels are reached over "
       "plain TCP without AUTH",
       [](const ServerConfig& c) { return show_sentinels(c.redis_sentinels); },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         auto sentinels = parse_sentinels(v);
         if (!sentinels) {
           return "expected HOST:PORT,HOST:PORT,... (e.g. 10.0.0.1:26379,10.0.0.2:26379), not \"" +
                  std::string(v) + "\"";
         }
         c.redis_sentinels = std::move(*sentinels);
         return std::nullopt;
       }},
      text("redis-primary-name", "the primary's name at the sentinels (with --redis-sentinels)",
           &ServerConfig::redis_primary_name),
      {"durability",
       "when a device's batch counts as stored (and is acknowledged): local (Redis's own "
       "persistence; with appendfsync everysec a crash may lose the last second), fsync (Redis "
       "must run with appendonly yes and appendfsync always, checked at connect), or replicated "
       "(after each batch, WAIT until --durability-replicas replicas hold it, at most "
       "--durability-timeout; a batch not confirmed in time is not acknowledged and the device "
       "resends it)",
       [](const ServerConfig& c) { return std::string(durability_mode_name(c.durability)); },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         for (const DurabilityMode mode :
              {DurabilityMode::local, DurabilityMode::fsync, DurabilityMode::replicated}) {
           if (v == durability_mode_name(mode)) {
             c.durability = mode;
             return std::nullopt;
           }
         }
         return "expected local, fsync or replicated, not \"" + std::string(v) + "\"";
       }},
      number("durability-replicas",
             "replicas that must hold a batch before it is acknowledged (--durability replicated)",
             &ServerConfig::durability_replicas, 1, 16),
      number("durability-timeout",
             "milliseconds a batch waits for its replicas (--durability replicated)",
             &ServerConfig::durability_timeout_ms, 10, 60'000),
      endpoint("http", "HTTP listen address (REST, health, WebSocket)", &ServerConfig::http),
      endpoint("devices", "device listen address (TCP, Protobuf frames)", &ServerConfig::devices),
      text("device-tokens-file", "file of `device-id token` lines",
           &ServerConfig::device_tokens_file),
      number("threads", "I/O threads", &ServerConfig::threads, 1, 64),
      number("max-clock-skew", "seconds a read may lie in the future",
             &ServerConfig::max_clock_skew_s, 0, 86400),
      number("heartbeat", "seconds between heartbeats to devices",
             &ServerConfig::heartbeat_interval_s, 1, 3600),
      number("idle-timeout", "seconds of silence before a device is dropped",
             &ServerConfig::idle_timeout_s, 1, 86400),
      number("drain-timeout", "seconds a stopping server waits for batches and state writes",
             &ServerConfig::drain_timeout_s, 0, 600),
      number("max-frame", "largest device frame in bytes", &ServerConfig::max_frame_bytes, 1024u,
             64u << 20),
      number("max-body", "largest HTTP request body in bytes", &ServerConfig::max_body_bytes, 1024u,
             64u << 20),
      {"roles", "what this node serves: ingest, push, or ingest,push",
       [](const ServerConfig& c) {
         return std::string(c.ingest_role ? "ingest" : "") +
                (c.ingest_role && c.push_role ? "," : "") + (c.push_role ? "push" : "");
       },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v == "ingest,push" || v == "push,ingest") {
           c.ingest_role = c.push_role = true;
         } else if (v == "ingest") {
           c.ingest_role = true;
           c.push_role = false;
         } else if (v == "push") {
           c.ingest_role = false;
           c.push_role = true;
         } else {
           return "expected ingest, push or ingest,push, not \"" + std::string(v) + "\"";
         }
         return std::nullopt;
       }},
      text("allowed-origins", "comma-separated Origins allowed on /ws (empty: any)",
           &ServerConfig::allowed_origins),
      number("ws-idle-timeout", "seconds before a silent viewer is pinged and then dropped",
             &ServerConfig::ws_idle_timeout_s, 2, 3600),
      number("push-interval", "milliseconds between live updates (updates in between coalesce)",
             &ServerConfig::push_interval_ms, 0, 10'000),
      number("checkpoint-interval",
             "seconds between checkpoints of the engine's state in Redis while reads arrive "
             "(also one when they pause, and one at stop); a starting node loads the latest and "
             "replays only the stream after it. 0: none written, none loaded",
             &ServerConfig::checkpoint_interval_s, 0, 86'400),
      {"live-gate",
       "on or off: public pages (the REST API, /ws) show nothing of a race before its earliest "
       "gun, so test reads at the mats never reach spectators; officials' endpoints see "
       "everything",
       [](const ServerConfig& c) { return std::string(c.live_gate ? "on" : "off"); },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v != "on" && v != "off") return "expected on or off, not \"" + std::string(v) + "\"";
         c.live_gate = v == "on";
         return std::nullopt;
       }},
      {"console-clock",
       "the race-day console's now (overdue runners, DNS, the sweep's and cut-offs' ETAs): wall "
       "(this machine's clock), race (the latest read's time: a replay of a past race), or auto "
       "(race when the latest read is more than 6 hours behind the wall clock, else wall)",
       [](const ServerConfig& c) { return c.console_clock; },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v != "auto" && v != "wall" && v != "race")
           return "expected auto, wall or race, not \"" + std::string(v) + "\"";
         c.console_clock = std::string(v);
         return std::nullopt;
       }},
      number("max-viewers", "WebSocket connections this node accepts", &ServerConfig::max_viewers,
             1u, 1'000'000u),
      number("viewer-queue-bytes", "bytes queued for one viewer before it is closed as too slow",
             &ServerConfig::viewer_queue_bytes, 4096u, 1u << 30),
      number("viewer-stall-timeout",
             "milliseconds a viewer's oldest unsent message may wait before it is closed as too "
             "slow (it reconnects and resumes)",
             &ServerConfig::viewer_stall_timeout_ms, 200, 600'000),
      number("viewer-socket-buffer", "kernel send buffer per viewer in bytes (SO_SNDBUF)",
             &ServerConfig::viewer_socket_buffer, 4096, 64 << 20),
      text("web-root",
           "the built browser app (web/dist), served on / [default: ../../web/dist from the "
           "executable's directory, if built]",
           &ServerConfig::web_root),
      {"map-tiles",
       "map tile URL template for Leaflet, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png "
       "(empty: no tiles, the course on a plain background)",
       [](const ServerConfig& c) { return c.map_tiles; },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (auto problem = tile_url_problem(v)) return problem;
         c.map_tiles = std::string(v);
         return std::nullopt;
       }},
      text("map-attribution", "attribution shown with the map tiles (their licence)",
           &ServerConfig::map_attribution),
      {"log-level", "debug, info, warn or error", [](const ServerConfig& c) { return c.log_level; },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return "expected debug, info, warn or error, not \"" + std::string(v) + "\"";
         }
         c.log_level = std::string(v);
         return std::nullopt;
       }},
      {"log-format", "text, or json: one JSON object per line (time, level, component, message)",
       [](const ServerConfig& c) { return c.log_format; },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v != "text" && v != "json") {
           return "expected text or json, not \"" + std::string(v) + "\"";
         }
         c.log_format = std::string(v);
         return std::nullopt;
       }},
      text("tls-cert", "TLS certificate chain (PEM file) for https/wss and the device port",
           &ServerConfig::tls_cert),
      text("tls-key", "TLS private key (PEM file) of --tls-cert", &ServerConfig::tls_key),
      {"tls",
       "listeners that use TLS: auto (both when --tls-cert is set), none, http, devices or "
       "http,devices",
       [](const ServerConfig& c) { return c.tls; },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v != "auto" && v != "none" && v != "http" && v != "devices" && v != "http,devices" &&
             v != "devices,http") {
           return "expected auto, none, http, devices or http,devices, not \"" + std::string(v) +
                  "\"";
         }
         c.tls = std::string(v);
         return std::nullopt;
       }},
      text("admin-token-file",
           "file holding the admin token: the official `admin`, role official, for the console "
           "and the corrections (/api/v1/admin/); with --officials-file or alone; neither: those "
           "endpoints are off",
           &ServerConfig::admin_token_file),
      text("officials-file",
           "file of `<role> <token> <name>` lines, one per official (role viewer or official): "
           "who may sign in to the console and read or make corrections",
           &ServerConfig::officials_file),
      {"session-ttl",
       "how long a console sign-in lasts: hours, or a number with a unit (90s, 30m, 12h)",
       [](const ServerConfig& c) {
         const int s = c.session_ttl_s;
         if (s % 3600 == 0) return std::to_string(s / 3600);
         return s % 60 == 0 ? std::to_string(s / 60) + "m" : std::to_string(s) + "s";
       },
       [](ServerConfig& c, std::string_view v) -> std::optional<std::string> {
         const auto ttl = parse_session_ttl(v);
         if (!ttl) {
           return "expected hours (12) or a number with a unit (90s, 30m, 12h), from 1s to 720h, "
                  "not \"" +
                  std::string(v) + "\"";
         }
         c.session_ttl_s = *ttl;
         return std::nullopt;
       }},
      number("max-admin-body", "largest body of an admin request in bytes",
             &ServerConfig::max_admin_body, 1024u, 1u << 20),
      number("http-connections-per-address",
             "HTTP and WebSocket connections one client address may hold (0: no limit; behind a "
             "load balancer set 0 and limit there)",
             &ServerConfig::http_connections_per_address, 0u, 1'000'000u),
      number("device-connections-per-address",
             "device connections one address may hold (0: no limit)",
             &ServerConfig::device_connections_per_address, 0u, 1'000'000u),
      number("ws-subscribe-rate",
             "subscribe/unsubscribe messages per second a viewer may send (after the burst)",
             &ServerConfig::ws_subscribe_rate, 1, 10'000),
      number("ws-subscribe-burst", "subscribe/unsubscribe messages a viewer may send at once",
             &ServerConfig::ws_subscribe_burst, 1, 10'000),
      text("node-name",
           "this node's name where it shows which node holds a device (GET /api/v1/devices) "
           "[default: HOSTNAME:HTTP-PORT]",
           &ServerConfig::node_name),
      number("clock-warn-ms",
             "milliseconds a device's clock may differ from the server's before the devices "
             "list flags it (clock_warning)",
             &ServerConfig::clock_warn_ms, 0, 86'400'000),
      number("silent-after",
             "seconds without a read (or offline) after which a device whose timing point still "
             "expects runners is raised as an alert (silent_alert and alerts in GET "
             "/api/v1/devices)",
             &ServerConfig::silent_after_s, 1, 86'400),
  };
  return all;
}

const Setting* find_setting(std::string_view name) {
  for (const Setting& s : settings()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

std::string env_name(std::string_view name) {
  std::string out = "SPLITSTREAM_";
  for (char c : name)
    out += c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return out;
}

// The Redis settings that only make sense together; the password file read (its error names
// the file, never what it holds).
void redis_cross_checks(
    ConfigResult& result,
    const std::function<std::optional<std::string>(const std::string&)>& read_file) {
  ServerConfig& c = result.config;
  if (!c.redis_password_file.empty() && !result.help) {
    const auto content = read_file(c.redis_password_file);
    std::string_view first_line;
    if (content) first_line = std::string_view(*content).substr(0, content->find('\n'));
    if (!first_line.empty() && first_line.back() == '\r') first_line.remove_suffix(1);
    if (!content) {
      result.errors.push_back("redis-password-file: cannot read " + c.redis_password_file);
    } else if (first_line.empty()) {
      result.errors.push_back("redis-password-file: the first line of " + c.redis_password_file +
                              " is empty: it should hold the password");
    } else {
      c.redis_url.password = std::string(first_line);
    }
  }
  if (!c.redis_url.username.empty() && c.redis_url.password.empty() &&
      c.redis_password_file.empty()) {
    result.errors.push_back(
        "redis: --redis names a user but no password: write redis://USER:PASSWORD@HOST or give "
        "--redis-password-file");
  }
  if (!c.redis_url.tls.enabled) {
    for (const auto& [name, value] :
         {std::pair{"--redis-tls-ca", &c.redis_tls_ca},
          std::pair{"--redis-tls-cert", &c.redis_tls_cert},
          std::pair{"--redis-tls-key", &c.redis_tls_key},
          std::pair{"--redis-tls-server-name", &c.redis_tls_server_name}}) {
      if (!value->empty()) {
        result.errors.push_back(std::string(name) +
                                " is for TLS to Redis: --redis needs a rediss:// URL");
      }
    }
  }
  if (c.redis_tls_cert.empty() != c.redis_tls_key.empty()) {
    result.errors.push_back(
        "--redis-tls-cert and --redis-tls-key go together: set both or neither");
  }
  if (!c.redis_sentinels.empty() && c.redis_primary_name.empty()) {
    result.errors.push_back(
        "--redis-sentinels needs --redis-primary-name (the name the sentinels know the primary "
        "by)");
  } else if (c.redis_sentinels.empty() && !c.redis_primary_name.empty()) {
    result.errors.push_back("--redis-primary-name needs --redis-sentinels (HOST:PORT,...)");
  }
}

}  // namespace

std::optional<std::filesystem::path> resolve_web_root(const std::string& configured,
                                                      const std::filesystem::path& executable) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!configured.empty()) {
    if (!fs::is_regular_file(fs::path(configured) / "index.html", ec)) {
      throw std::runtime_error("web root " + configured +
                               " (--web-root) has no index.html: build the browser app with "
                               "`npm ci && npm run build` in web/, or pass the directory it "
                               "was built into");
    }
    return fs::path(configured);
  }
  if (executable.empty()) return std::nullopt;
  const fs::path dist =
      (executable.parent_path() / ".." / ".." / "web" / "dist").lexically_normal();
  if (!fs::is_regular_file(dist / "index.html", ec)) return std::nullopt;
  return dist;
}

std::optional<std::string> tile_url_problem(std::string_view url) {
  if (url.empty()) return std::nullopt;  // no tiles
  const std::string quoted = "\"" + std::string(url) + "\"";
  if (!url.starts_with("http://") && !url.starts_with("https://") && !url.starts_with("/")) {
    return "expected a tile URL starting with http://, https:// or /, not " + quoted;
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '\\') {
      return "a tile URL has no spaces, quotes, backslashes or control characters: " + quoted;
    }
  }
  for (const char* placeholder : {"{z}", "{x}", "{y}"}) {
    if (url.find(placeholder) == std::string_view::npos) {
      return "the tile URL needs {z}, {x} and {y} (e.g. "
             "https://tile.openstreetmap.org/{z}/{x}/{y}.png), " +
             quoted + " has no " + placeholder;
    }
  }
  return std::nullopt;
}

std::optional<int> parse_session_ttl(std::string_view text) {
  constexpr int kMaxSeconds = 30 * 24 * 3600;
  int unit = 3600;
  if (!text.empty() && (text.back() == 's' || text.back() == 'm' || text.back() == 'h')) {
    unit = text.back() == 's' ? 1 : text.back() == 'm' ? 60 : 3600;
    text.remove_suffix(1);
  }
  const auto n = parse_number<int>(text, 1, kMaxSeconds);
  if (!n || *n > kMaxSeconds / unit) return std::nullopt;
  return *n * unit;
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host = text, port = text;
  if (!text.empty() && text.front() == '[') {  // [::1]:8080
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = parse_number<std::uint16_t>(port, 0, 65535);
  if (host.empty() || !p) return std::nullopt;
  return Endpoint{std::string(host), *p};
}

ConfigResult parse_server_config(
    const std::vector<std::string>& args,
    const std::function<std::optional<std::string>(const std::string&)>& env,
    const std::function<std::optional<std::string>(const std::string&)>& read_file) {
  ConfigResult result;
  auto apply = [&](const std::string& source, std::string_view name, std::string_view value) {
    const Setting* s = find_setting(name);
    if (!s) {
      result.errors.push_back(source + ": unknown setting \"" + std::string(name) + "\"");
      return;
    }
    if (auto error = s->apply(result.config, value)) {
      result.errors.push_back(source + ": " + std::string(name) + ": " + *error);
    }
  };
  // Flags first into a list, so that --config is known before the others apply.
  std::vector<std::pair<std::string, std::string>> flags;
  std::optional<std::string> config_file = env("SPLITSTREAM_CONFIG");
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") {
      result.help = true;
      continue;
    }
    if (!a.starts_with("--")) {
      // Echoed as a Redis URL would be (a --redis value given without its flag).
      result.errors.push_back("unexpected argument \"" + redact_redis_url(a) + "\"");
      continue;
    }
    std::string value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      result.errors.push_back(a + " needs a value");
      continue;
    }
    if (a == "--config") {
      config_file = value;
    } else {
      flags.emplace_back(a.substr(2), value);
    }
  }
  if (config_file) {
    auto content = read_file(*config_file);
    if (!content) {
      result.errors.push_back("cannot read config file " + *config_file);
    } else {
      std::size_t line_no = 0;
      std::string_view rest = *content;
      while (!rest.empty()) {
        ++line_no;
        const auto nl = rest.find('\n');
        std::string_view line = trim(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto eq = line.find('=');
        const std::string source = *config_file + ":" + std::to_string(line_no);
        if (eq == std::string_view::npos) {
          result.errors.push_back(source + ": expected `key = value`");
          continue;
        }
        apply(source, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
      }
    }
  }
  for (const Setting& s : settings()) {
    const std::string var = env_name(s.name);
    if (auto v = env(var)) apply("environment " + var, s.name, *v);
  }
  for (const auto& [name, value] : flags)
    apply("--" + name, name, value);
  ServerConfig& c = result.config;
  if (c.tls == "auto") {
    c.tls_http = c.tls_devices = !c.tls_cert.empty();
  } else {
    c.tls_http = c.tls.find("http") != std::string::npos;
    c.tls_devices = c.tls.find("devices") != std::string::npos;
  }
  if ((c.tls_http || c.tls_devices) && (c.tls_cert.empty() || c.tls_key.empty())) {
    result.errors.push_back("tls: " + c.tls + " needs both --tls-cert and --tls-key (PEM files)");
  } else if (c.tls_cert.empty() != c.tls_key.empty()) {
    result.errors.push_back("--tls-cert and --tls-key go together: set both or neither");
  }
  redis_cross_checks(result, read_file);
  if (!result.help && result.config.event_dir.empty()) {
    result.errors.push_back(
        "--event DIR is required (or SPLITSTREAM_EVENT, or event = DIR in --config)");
  }
  return result;
}

std::string server_config_help() {
  std::string out =
      "Usage: splitstream serve --event DIR [options]\n\n"
      "Each setting comes from (later wins): its default, --config FILE (`key = value` lines),\n"
      "the environment (SPLITSTREAM_<KEY>), then the flag.\n\n";
  const ServerConfig defaults;
  out += "  --config FILE  (SPLITSTREAM_CONFIG)\n      settings file\n";
  for (const Setting& s : settings()) {
    out += "  --" + std::string(s.name) + "  (" + env_name(s.name) + ")\n      " + s.help;
    const std::string d = s.show(defaults);
    if (!d.empty()) out += " [default: " + d + "]";
    out += "\n";
  }
  out +=
      "\nDevice tokens also come from SPLITSTREAM_DEVICE_TOKENS=\"dev1=token1,dev2=token2\",\n"
      "the admin token from SPLITSTREAM_ADMIN_TOKEN.\n";
  return out;
}

}  // namespace splitstream
