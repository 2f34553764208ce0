// The replicated durability mode's second step (docs/redis.md, "Durability"): after a write that
// will be acknowledged (a device's batch, a vendor decoder's batch, an official's correction, or
// a Hello's acked sequence), WAIT on the same connection until enough replicas hold it. A write
// not confirmed in time is not acknowledged: the device resends it and the scripts drop it as a
// duplicate. In the local and fsync modes it does nothing.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <string>
#include <type_traits>

namespace splitstream {

class RedisConnection;

enum class DurabilityErrc {
  unconfirmed = 1,  // WAIT counted fewer replicas than required, or answered with an error
};

const boost::system::error_category& durability_category();
boost::system::error_code make_error_code(DurabilityErrc e);

struct ReplicaConfirmation {
  boost::system::error_code error;  // DurabilityErrc::unconfirmed or a transport error
  std::string detail;               // in words, for the device's Error and the logs
};

// WAIT with the connection's DurabilityOptions when they say replicated (at once otherwise).
// WAIT covers every write this connection made before it, so a caller that only read must write
// first (read_log: the acked seq is rewritten with its own value by the same script).
// Observes splitstream_redis_wait_seconds, counts splitstream_redis_wait_unconfirmed_total, and
// logs when replicas stop (and start again) confirming.
boost::asio::awaitable<ReplicaConfirmation> confirm_on_replicas(RedisConnection& redis);

}  // namespace splitstream

template <>
struct boost::system::is_error_code_enum<splitstream::DurabilityErrc> : std::true_type {};
