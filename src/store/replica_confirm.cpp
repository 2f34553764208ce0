#include "store/replica_confirm.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <utility>

#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "store/durability.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;

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

bool replicated(const RedisConnection& redis) {
  return redis.options().durability.mode == DurabilityMode::replicated;
}

// One WAIT, timed; the outcome in words.
asio::awaitable<ReplicaConfirmation> send_wait(RedisConnection& redis) {
  ReplicaConfirmation out;
  const DurabilityOptions& options = redis.options().durability;
  const auto started = std::chrono::steady_clock::now();
  auto [error, reply] = co_await redis.command(wait_command(options));
  if (error) {
    // Outcome unknown: the connection failed (counted with the Redis errors).
    out.error = error;
    out.detail = "WAIT: " + error.message();
    co_return out;
  }
  metrics::server().redis_wait.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (auto problem = wait_problem(options, reply)) {
    out.error = make_error_code(DurabilityErrc::unconfirmed);
    out.detail = std::move(*problem);
    note_outcome(false, out.detail);
    co_return out;
  }
  note_outcome(true, "");
  co_return out;
}

void count_unconfirmed(const ReplicaConfirmation& confirmation) {
  if (confirmation.error == make_error_code(DurabilityErrc::unconfirmed))
    metrics::server().redis_wait_unconfirmed.inc();
}

}  // namespace

const boost::system::error_category& durability_category() {
  static const DurabilityCategory category;
  return category;
}

boost::system::error_code make_error_code(DurabilityErrc e) {
  return {static_cast<int>(e), durability_category()};
}

asio::awaitable<ReplicaConfirmation> confirm_on_replicas(RedisConnection& redis) {
  ReplicaConfirmation out;
  if (!replicated(redis)) co_return out;
  out = co_await send_wait(redis);
  count_unconfirmed(out);
  co_return out;
}

struct ReplicaConfirmer::Round {
  explicit Round(const asio::any_io_executor& executor)
      : finished(executor, std::chrono::steady_clock::time_point::max()) {}
  asio::steady_timer finished;  // cancelled when `result` is in
  bool done = false;
  ReplicaConfirmation result;
};

std::shared_ptr<ReplicaConfirmer> ReplicaConfirmer::create(std::shared_ptr<RedisConnection> redis) {
  return std::shared_ptr<ReplicaConfirmer>(new ReplicaConfirmer(std::move(redis)));
}

ReplicaConfirmer::ReplicaConfirmer(std::shared_ptr<RedisConnection> redis)
    : redis_(std::move(redis)) {}

asio::awaitable<ReplicaConfirmation> ReplicaConfirmer::confirm() {
  if (!replicated(*redis_)) {
    ReplicaConfirmation none;
    co_return none;
  }
  // The rounds live on the connection's executor (the ingest strand in the server).
  auto self = shared_from_this();
  if (co_await asio::this_coro::executor != redis_->executor()) {
    co_return co_await asio::co_spawn(redis_->executor(), self->confirm_here(),
                                      asio::use_awaitable);
  }
  co_return co_await confirm_here();
}

asio::awaitable<ReplicaConfirmation> ReplicaConfirmer::confirm_here() {
  auto self = shared_from_this();
  std::shared_ptr<Round> round;
  if (!in_flight_) {
    // Nothing in flight: a WAIT sent now follows this caller's write.
    round = std::make_shared<Round>(redis_->executor());
    in_flight_ = round;
    asio::co_spawn(redis_->executor(), run_rounds(self, round), asio::detached);
  } else {
    // The WAIT in flight may have been sent before this write: the next one covers it.
    if (!next_) next_ = std::make_shared<Round>(redis_->executor());
    round = next_;
  }
  while (!round->done)
    co_await round->finished.async_wait(asio::as_tuple(asio::use_awaitable));
  ReplicaConfirmation out = round->result;
  count_unconfirmed(out);
  co_return out;
}

asio::awaitable<void> ReplicaConfirmer::run_rounds(std::shared_ptr<ReplicaConfirmer> self,
                                                   std::shared_ptr<Round> round) {
  while (round) {
    round->result = co_await send_wait(*self->redis_);
    round->done = true;
    round->finished.cancel();
    // Whoever arrived while it was in flight gets the next WAIT, sent at once.
    round = std::exchange(self->next_, nullptr);
    self->in_flight_ = round;
  }
}

}  // namespace splitstream
