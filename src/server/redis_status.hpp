// How the node shows its Redis: the /readyz check's detail and the start-up log line. Pure, and
// built only from describe_redis(), so no password can show.
#pragma once

#include <string>
#include <string_view>

#include "store/redis_options.hpp"

namespace splitstream {

// "redis://timing@10.0.0.5:6379 connected", or "... not connected: <problem>" (just "not
// connected" while the connection has no problem to report, e.g. before its first attempt).
// `problem` is RedisConnection::last_problem(): words safe to show.
std::string redis_readiness_detail(const RedisOptions& options, bool connected,
                                   std::string_view problem);

// "local", "fsync", or "replicated: 2 replicas within 1000 ms".
std::string describe_durability(const DurabilityOptions& durability);

}  // namespace splitstream
