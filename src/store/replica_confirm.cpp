#include "store/replica_confirm.hpp"

#include <atomic>
#include <chrono>

#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "store/durability.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {
namespace {

class DurabilityCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "splitstream.durability"; }
  std::string message(int value) const override {
    if (static_cast<DurabilityErrc>(value) == DurabilityErrc::unconfirmed)
      return "not confirmed by enough replicas in time (--durability replicated)";
    return "unknown durability error";
  }
};

// Whether the last WAIT of this process fell short: the log says when that changes, not once
// per batch (with a replica down every device's every batch falls short).
std::atomic<bool> g_unconfirmed{false};

void note_outcome(bool confirmed, const std::string& detail) {
  const bool was_unconfirmed = g_unconfirmed.exchange(!confirmed);
  if (!confirmed && !was_unconfirmed) {
    log::warn("redis", "replicas do not confirm writes: batches are not acknowledged until they do",
              {{"problem", detail}});
  } else if (confirmed && was_unconfirmed) {
    log::info("redis", "replicas confirm writes again");
  }
}

}  // namespace

const boost::system::error_category& durability_category() {
  static const DurabilityCategory category;
  return category;
}

boost::system::error_code make_error_code(DurabilityErrc e) {
  return {static_cast<int>(e), durability_category()};
}

boost::asio::awaitable<ReplicaConfirmation> confirm_on_replicas(RedisConnection& redis) {
  ReplicaConfirmation out;
  const DurabilityOptions& options = redis.options().durability;
  if (options.mode != DurabilityMode::replicated) co_return out;
  metrics::ServerMetrics& m = metrics::server();
  const auto started = std::chrono::steady_clock::now();
  auto [error, reply] = co_await redis.command(wait_command(options));
  if (error) {
    // Outcome unknown: the connection failed (counted with the Redis errors).
    out.error = error;
    out.detail = "WAIT: " + error.message();
    co_return out;
  }
  m.redis_wait.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (auto problem = wait_problem(options, reply)) {
    m.redis_wait_unconfirmed.inc();
    out.error = make_error_code(DurabilityErrc::unconfirmed);
    out.detail = std::move(*problem);
    note_outcome(false, out.detail);
    co_return out;
  }
  note_outcome(true, "");
  co_return out;
}

}  // namespace splitstream
