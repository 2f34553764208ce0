#include "pipeline/pipeline_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "observe/spawn_completion.hpp"
#include "store/redis_reply.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kFlushPoll{10};
// How often the checkpoint writer looks, and how long the stream must pause for a checkpoint
// before the interval is up (the end of a burst, of the race); also the least time between two.
constexpr std::chrono::seconds kCheckpointTick{1};
constexpr std::chrono::seconds kCheckpointLull{2};

// Commands built outside the coroutines: GCC 12 rejects braced initializer lists in a
// coroutine body.
std::vector<std::string> get_command(const std::string& key) {
  return {"GET", key};
}
std::vector<std::string> set_command(const std::string& key, std::string value) {
  return {"SET", key, std::move(value)};
}
std::vector<std::string> entry_command(const std::string& stream, const std::string& id) {
  return {"XRANGE", stream, id, id};
}

// Sets a flag for as long as it lives (a coroutine's busy flag, whichever way it ends).
class WhileWriting {
 public:
  explicit WhileWriting(bool& flag) : flag_(flag) { flag_ = true; }
  ~WhileWriting() { flag_ = false; }
  WhileWriting(const WhileWriting&) = delete;
  WhileWriting& operator=(const WhileWriting&) = delete;

 private:
  bool& flag_;
};

// Runs on the encoder's thread.
asio::awaitable<std::string> encode_elsewhere(std::shared_ptr<const NodeCheckpoint> checkpoint) {
  co_return encode_checkpoint(*checkpoint);
}

void log_checkpoint_unused(const std::string& why) {
  log::warn("checkpoint", "not loaded: replaying the whole stream", {{"why", why}});
}

void log_checkpoint_loaded(const NodeCheckpoint& c, std::size_t bytes,
                           std::chrono::steady_clock::time_point started) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  log::info("checkpoint",
            "loaded: " + std::to_string(c.entries) + " stream entries up to " + c.stream_id +
                " in " + std::to_string(ms) + " ms; replaying the stream after it",
            {{"bytes", std::to_string(bytes)}});
  metrics::server().checkpoint_entries.set(static_cast<std::int64_t>(c.entries));
}

void log_checkpoint_failed(const boost::system::error_code& error, const RedisReply& reply) {
  std::string why = error ? error.message() : reply.as_string();
  log::warn("checkpoint", "write failed; trying again later", {{"error", why}});
}

}  // namespace

PipelineService::PipelineService(asio::any_io_executor engine_strand,
                                 asio::any_io_executor follower_strand, const RedisOptions& redis,
                                 KeySchema keys, RaceEngine& engine, PushHub& hub,
                                 CorrectionLog& corrections, LivePipelineOptions options)
    : strand_(std::move(engine_strand)),
      follower_strand_(std::move(follower_strand)),
      keys_(std::move(keys)),
      follower_redis_(RedisConnection::create(follower_strand_, redis)),
      materializer_redis_(RedisConnection::create(strand_, redis)),
      materializer_(materializer_redis_, keys_, engine),
      pipeline_(engine, hub, materializer_, corrections, options),
      handoff_(strand_, 1),
      publish_timer_(strand_),
      checkpoint_interval_(options.checkpoint_interval),
      checkpoint_timer_(strand_) {}

void PipelineService::start(const CompletionFor& completion) {
  asio::co_spawn(follower_strand_, follower_redis_->run(), completion("redis (follower)"));
  asio::co_spawn(strand_, follow(), completion("stream follower"));
  asio::co_spawn(strand_, apply_handed_over(), completion("engine intake"));
  asio::co_spawn(strand_, materializer_redis_->run(), completion("redis (materializer)"));
  asio::co_spawn(strand_, materializer_.run(), completion("state materializer"));
  asio::co_spawn(strand_, publish_on_time(), completion("publish timer"));
  // Checkpoints only shorten a restart: a writer that fails is logged, the node goes on.
  if (checkpoint_interval_.count() > 0)
    asio::co_spawn(strand_, write_checkpoints(), LogAndDrop("checkpoint writer"));
}

asio::awaitable<void> PipelineService::follow() {
  std::string after = "0";
  if (checkpoint_interval_.count() > 0) after = co_await load_checkpoint();
  // The reading and parsing on the follower's strand; the batches come back through handoff_.
  co_await asio::co_spawn(
      follower_strand_,
      follow_stream(follower_redis_, keys_.reads(), entries_handler(), after, rewound_handler()),
      asio::use_awaitable);
}

StreamRewound PipelineService::rewound_handler() {
  return [this] {
    // This node's state now holds entries the stream lacks: a checkpoint of it would not be the
    // stream's state. Other nodes (and this one, restarted) write them from now on.
    if (!checkpoints_stale_ && checkpoint_interval_.count() > 0)
      log::warn("checkpoint", "none from this node any more: the stream lost entries it applied");
    checkpoints_stale_ = true;
  };
}

StreamHandler PipelineService::entries_handler() {
  return [this](std::vector<StreamEntry>& entries, bool caught_up) {
    return hand_over(entries, caught_up);
  };
}

asio::awaitable<void> PipelineService::hand_over(std::vector<StreamEntry>& entries,
                                                 bool caught_up) {
  const auto sent = co_await handoff_.async_send(boost::system::error_code(), std::move(entries),
                                                 caught_up, kNoThrow);
  entries.clear();
  // Cancelled and closed at stop: stopping the connection here (on its own strand, at once)
  // makes the follower's next read report `stopped`, and it ends.
  if (std::get<0>(sent)) follower_redis_->stop();
}

asio::awaitable<void> PipelineService::apply_handed_over() {
  for (;;) {
    // Named whole, no structured bindings across awaits (GCC 12).
    auto batch = co_await handoff_.async_receive(kNoThrow);
    if (std::get<0>(batch)) co_return;  // closed at stop
    on_entries(std::get<1>(batch), std::get<2>(batch));
  }
}

asio::awaitable<std::string> PipelineService::load_checkpoint() {
  const auto started = std::chrono::steady_clock::now();
  const std::string none = "0";
  for (;;) {
    // No structured bindings across these awaits (GCC 12): the results are named whole.
    const auto got = co_await follower_redis_->command(get_command(keys_.checkpoint()));
    if (std::get<0>(got) == make_error_code(RedisErrc::stopped)) co_return none;
    if (std::get<0>(got)) {
      co_await follower_redis_->wait_connected(std::chrono::seconds(1));
      continue;
    }
    const RedisReply& reply = std::get<1>(got);
    if (reply.is_nil()) {
      log::info("checkpoint", "none in Redis: replaying the whole stream");
      co_return none;
    }
    if (!reply.is_string()) {
      log_checkpoint_unused("the key " + keys_.checkpoint() + " holds no string");
      co_return none;
    }
    std::string problem;
    std::optional<NodeCheckpoint> checkpoint = decode_checkpoint(reply.as_string(), problem);
    if (!checkpoint) {
      log_checkpoint_unused(problem);
      co_return none;
    }
    // After a failover the stream may lack the checkpoint's entry (and entries before it that
    // the checkpoint counts): then it is not this stream's state.
    const auto found =
        co_await follower_redis_->command(entry_command(keys_.reads(), checkpoint->stream_id));
    if (std::get<0>(found) == make_error_code(RedisErrc::stopped)) co_return none;
    if (std::get<0>(found)) {
      co_await follower_redis_->wait_connected(std::chrono::seconds(1));
      continue;
    }
    if (!std::get<1>(found).is_array() || std::get<1>(found).elements().empty()) {
      log_checkpoint_unused("the stream lacks its entry " + checkpoint->stream_id);
      co_return none;
    }
    if (auto error = pipeline_.restore(*checkpoint)) {
      log_checkpoint_unused(*error);
      co_return none;
    }
    checkpoint_entries_ = checkpoint->entries;
    log_checkpoint_loaded(*checkpoint, reply.as_string().size(), started);
    co_return checkpoint->stream_id;
  }
}

bool PipelineService::checkpoint_due(LivePipeline::Clock::time_point now) const {
  if (writing_checkpoint_ || checkpoints_stale_ || pipeline_.entries_seen() == checkpoint_entries_)
    return false;
  if (!pipeline_.progress().caught_up || now - checkpoint_tried_ < kCheckpointLull) return false;
  return now - checkpoint_tried_ >= checkpoint_interval_ ||
         now - entries_arrived_ >= kCheckpointLull;
}

asio::awaitable<void> PipelineService::write_checkpoints() {
  while (!stopped_) {
    checkpoint_timer_.expires_after(kCheckpointTick);
    co_await checkpoint_timer_.async_wait(kNoThrow);
    if (!stopped_ && checkpoint_due(LivePipeline::Clock::now())) co_await write_checkpoint();
  }
}

asio::awaitable<void> PipelineService::write_checkpoint() {
  const WhileWriting busy(writing_checkpoint_);
  checkpoint_tried_ = LivePipeline::Clock::now();
  const auto checkpoint = std::make_shared<const NodeCheckpoint>(pipeline_.checkpoint());
  std::string bytes = co_await asio::co_spawn(checkpoint_encoder_, encode_elsewhere(checkpoint),
                                              asio::use_awaitable);
  const std::size_t size = bytes.size();
  const auto written =
      co_await materializer_redis_->command(set_command(keys_.checkpoint(), std::move(bytes)));
  if (std::get<0>(written) || std::get<1>(written).is_error()) {
    metrics::server().checkpoint_failures.inc();
    if (!checkpoint_failing_) log_checkpoint_failed(std::get<0>(written), std::get<1>(written));
    checkpoint_failing_ = true;
    co_return;
  }
  checkpoint_failing_ = false;
  checkpoint_entries_ = checkpoint->entries;
  metrics::server().checkpoint_writes.inc();
  metrics::server().checkpoint_bytes.set(static_cast<std::int64_t>(size));
  metrics::server().checkpoint_entries.set(static_cast<std::int64_t>(checkpoint->entries));
}

void PipelineService::on_entries(std::vector<StreamEntry>& entries, bool caught_up) {
  if (!entries.empty()) entries_arrived_ = LivePipeline::Clock::now();
  pipeline_.apply(entries, caught_up);
  // A publish became due that the timer does not wait for: wake it to wait for that one.
  if (pipeline_.publish_due() != timer_due_) publish_timer_.cancel();
}

asio::awaitable<void> PipelineService::publish_on_time() {
  while (!stopped_) {
    timer_due_ = pipeline_.publish_due();
    if (timer_due_) {
      publish_timer_.expires_at(*timer_due_);
    } else {
      publish_timer_.expires_at(LivePipeline::Clock::time_point::max());
    }
    co_await publish_timer_.async_wait(kNoThrow);
    pipeline_.publish_if_due();
  }
}

asio::awaitable<void> PipelineService::flush(std::string last_id,
                                             std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (!pipeline_.flushed_to(last_id) && materializer_redis_->connected() &&
         std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(kFlushPoll);
    co_await poll.async_wait(kNoThrow);
  }
  if (!pipeline_.flushed_to(last_id))
    log::warn("server", "drain timeout: state not fully written to Redis");
  // The last checkpoint, after the periodic one in flight (if any) is done.
  while (writing_checkpoint_ && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(kFlushPoll);
    co_await poll.async_wait(kNoThrow);
  }
  if (checkpoint_interval_.count() > 0 && !writing_checkpoint_ && !checkpoints_stale_ &&
      pipeline_.progress().caught_up && pipeline_.entries_seen() != checkpoint_entries_ &&
      materializer_redis_->connected() && std::chrono::steady_clock::now() < deadline)
    co_await write_checkpoint();
}

void PipelineService::join_encoder() {
  checkpoint_encoder_.stop();
  checkpoint_encoder_.join();
}

void PipelineService::stop() {
  stopped_ = true;
  handoff_.cancel();  // a follower waiting to hand over a batch, and the intake, end
  handoff_.close();   // and nothing more is handed over
  materializer_.stop();
  publish_timer_.cancel();
  checkpoint_timer_.cancel();
  materializer_redis_->stop();
  follower_redis_->stop();
}

}  // namespace splitstream
