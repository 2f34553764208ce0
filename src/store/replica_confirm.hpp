// The replicated durability mode's second step (docs/redis.md, "Durability"): after a write that
// will be acknowledged (a device's batch, a vendor decoder's batch, an official's correction, or
// a Hello's acked sequence), WAIT on the same connection until enough replicas hold it. A write
// not confirmed in time is not acknowledged: the device resends it and the scripts drop it as a
// duplicate. In the local and fsync modes nothing is sent.
//
// WAIT covers every write its connection made before it, so a caller that only read must write
// first (read_log rewrites the acked seq with its own value in the same script).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
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

// One WAIT for the write just made, with the connection's DurabilityOptions when they say
// replicated (nothing otherwise). Observes splitstream_redis_wait_seconds, counts the write in
// splitstream_redis_wait_unconfirmed_total when it falls short, logs when replicas stop (and
// start again) confirming. For rare writes (corrections); batches go through ReplicaConfirmer.
boost::asio::awaitable<ReplicaConfirmation> confirm_on_replicas(RedisConnection& redis);

// Confirms the writes of many callers on one connection with as few WAITs as they allow (a group
// commit): a caller whose write completed while a WAIT was in flight joins the next WAIT, sent as
// soon as that one returns, together with every other caller that arrived meanwhile. A blocked
// WAIT holds its connection, so one WAIT per batch would queue every other batch behind it (and,
// with the replicas gone, make each wait out the full timeout in turn).
class ReplicaConfirmer : public std::enable_shared_from_this<ReplicaConfirmer> {
 public:
  static std::shared_ptr<ReplicaConfirmer> create(std::shared_ptr<RedisConnection> redis);

  // Call after a write whose reply has arrived, on any executor. Nothing is sent (and the result
  // is empty) unless the connection's durability is replicated.
  boost::asio::awaitable<ReplicaConfirmation> confirm();

 private:
  struct Round;  // one WAIT and the callers it confirms

  explicit ReplicaConfirmer(std::shared_ptr<RedisConnection> redis);
  boost::asio::awaitable<ReplicaConfirmation> confirm_here();
  static boost::asio::awaitable<void> run_rounds(std::shared_ptr<ReplicaConfirmer> self,
                                                 std::shared_ptr<Round> round);

  std::shared_ptr<RedisConnection> redis_;
  // On the connection's executor only.
  std::shared_ptr<Round> in_flight_;  // the WAIT sent, or null
  std::shared_ptr<Round> next_;       // callers for the WAIT after it, or null
};

}  // namespace splitstream

template <>
struct boost::system::is_error_code_enum<splitstream::DurabilityErrc> : std::true_type {};
