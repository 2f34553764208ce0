#include "store/redis_options.hpp"

namespace splitstream {
namespace {

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string describe_redis(const RedisOptions& options) {
  if (!options.sentinels.empty()) {
    std::string out = "sentinel primary " + options.primary_name + " via ";
    for (std::size_t i = 0; i < options.sentinels.size(); ++i) {
      if (i > 0) out += ",";
      out += host_port(options.sentinels[i].host, options.sentinels[i].port);
    }
    return out;
  }
  std::string out = options.tls.enabled ? "rediss://" : "redis://";
  if (!options.username.empty()) out += options.username + "@";
  out += host_port(options.host, options.port);
  if (options.database != 0) out += "/" + std::to_string(options.database);
  return out;
}

const char* durability_mode_name(DurabilityMode mode) {
  switch (mode) {
    case DurabilityMode::local:
      return "local";
    case DurabilityMode::fsync:
      return "fsync";
    case DurabilityMode::replicated:
      return "replicated";
  }
  return "local";
}

}  // namespace splitstream
