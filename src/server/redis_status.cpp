#include "server/redis_status.hpp"

namespace splitstream {

std::string redis_readiness_detail(const RedisOptions& options, bool connected,
                                   std::string_view problem) {
  std::string detail = describe_redis(options);
  if (connected) return detail + " connected";
  detail += " not connected";
  if (!problem.empty()) detail += ": " + std::string(problem);
  return detail;
}

std::string describe_durability(const DurabilityOptions& durability) {
  std::string out = durability_mode_name(durability.mode);
  if (durability.mode == DurabilityMode::replicated) {
    out += ": " + std::to_string(durability.replicas) +
           (durability.replicas == 1 ? " replica" : " replicas") + " within " +
           std::to_string(durability.wait_timeout.count()) + " ms";
  }
  return out;
}

}  // namespace splitstream
