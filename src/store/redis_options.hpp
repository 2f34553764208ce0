// Where a Redis connection goes, how it proves who it is, and how it behaves when Redis is slow,
// away or replaced (light: the settings need no Asio).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace splitstream {

struct RedisAddress {
  std::string host;  // an IP address or a name (resolved when connecting)
  std::uint16_t port = 0;
};

// TLS to Redis (a `rediss://` URL). The server's certificate is always verified, against
// `ca_file` or the system's trust store, and its name against `server_name` (or the host).
struct RedisTlsOptions {
  bool enabled = false;
  std::string ca_file;    // PEM; empty: the system's trust store
  std::string cert_file;  // client certificate (PEM), with key_file; empty: none
  std::string key_file;
  std::string server_name;  // SNI and the name checked; empty: the host connected to
};

// What "stored" means when a batch is acknowledged to a device (docs/operations.md):
// local: Redis's own setting (`appendfsync everysec`: a crash may lose the last second);
// fsync: Redis must run with `appendonly yes` and `appendfsync always` (checked at connect);
// replicated: after each batch, WAIT until `replicas` replicas hold it, at most `wait_timeout`;
// a batch not confirmed in time is not acknowledged (the device resends it).
enum class DurabilityMode { local, fsync, replicated };

struct DurabilityOptions {
  DurabilityMode mode = DurabilityMode::local;
  int replicas = 1;
  std::chrono::milliseconds wait_timeout{1000};
};

struct RedisOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;  // ACL user; empty: AUTH with the password alone (the default user)
  std::string password;  // a secret: never in logs, /readyz, /metrics or errors
  int database = 0;      // SELECT after connecting when not 0
  RedisTlsOptions tls;
  // When not empty: the primary is whatever these sentinels name `primary_name`, asked again
  // after every connection loss or a reply saying the server is no longer the primary
  // (host and port above are then unused).
  std::vector<RedisAddress> sentinels;
  std::string primary_name;
  DurabilityOptions durability;
  std::chrono::milliseconds connect_timeout{2000};
  // A command without a reply after this long fails with command_timeout and the connection is
  // dropped and re-established (a stuck Redis must not hang callers). Zero: no timeout.
  std::chrono::milliseconds command_timeout{5000};
  // Delay before each reconnect attempt: initial, times factor after each failure, up to max;
  // back to initial once connected (the exact rule: store/reconnect_fsm.hpp).
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{5000};
  double reconnect_factor = 2.0;
};

// Where the options point, safe for logs, /readyz and errors (the password never shows):
// "redis://127.0.0.1:6379", "rediss://timing@redis.example:6380/2", or
// "sentinel primary mymaster via 10.0.0.1:26379,10.0.0.2:26379".
std::string describe_redis(const RedisOptions& options);

const char* durability_mode_name(DurabilityMode mode);

}  // namespace splitstream
