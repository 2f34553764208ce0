// The live pipeline on the engine's strand, with its I/O: the stream follower and the state
// materializer, each over its own Redis connection (XREAD BLOCK holds one), the timer of the
// publish cadence, and the node's checkpoints (loaded at start, written while it runs). A read
// ingested by any node reaches this node's engine through the stream, and a restart loads the
// latest checkpoint and replays the race after it. The follower reads and parses on an I/O strand
// of its own and hands each batch to the engine's strand, one waiting at most: the next batch is
// on its way from Redis while the engine applies the last.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/live_pipeline.hpp"
#include "store/key_schema.hpp"
#include "store/redis_connection.hpp"
#include "store/state_materializer.hpp"

namespace splitstream {

class PipelineService {
 public:
  // A completion handler for co_spawn of one of the service's coroutines, named by `what`.
  using CompletionFor = std::function<std::function<void(std::exception_ptr)>(const char* what)>;

  // `engine_strand` runs everything below but the follower's reading, which runs on
  // `follower_strand`; engine, hub and corrections live on the engine strand.
  PipelineService(boost::asio::any_io_executor engine_strand,
                  boost::asio::any_io_executor follower_strand, const RedisOptions& redis,
                  KeySchema keys, RaceEngine& engine, PushHub& hub, CorrectionLog& corrections,
                  LivePipelineOptions options);

  // Spawns the Redis connections, the follower (which first loads the latest checkpoint, unless
  // checkpoints are off), the materializer and the publish timer, each with the completion
  // handler `completion` gives for it; and the checkpoint writer, which is only logged if it
  // fails.
  void start(const CompletionFor& completion);
  // On the engine strand: until the engine has applied the stream up to `last_id` and the
  // materializer has written it out, or `deadline`, or the materializer's Redis is away; then a
  // last checkpoint, so that the node's restart replays nothing.
  boost::asio::awaitable<void> flush(std::string last_id,
                                     std::chrono::steady_clock::time_point deadline);
  // Ends every coroutine of start(); final. On the engine strand.
  void stop();
  // Waits for the checkpoint encoder's thread to end (after the engine's thread has ended and
  // before its context is shut down: the encoder hands its bytes back to the engine strand).
  void join_encoder();

  const LivePipeline& pipeline() const { return pipeline_; }
  const std::shared_ptr<RedisConnection>& follower_redis() const { return follower_redis_; }
  const std::shared_ptr<RedisConnection>& materializer_redis() const { return materializer_redis_; }

 private:
  boost::asio::awaitable<void> publish_on_time();
  void on_entries(std::vector<StreamEntry>& entries, bool caught_up);
  // The checkpoint, if any (on the engine strand), then the stream after it (read on the
  // follower strand).
  boost::asio::awaitable<void> follow();
  StreamHandler entries_handler();
  StreamRewound rewound_handler();
  // On the follower strand: a batch into the handoff, once the one before it is taken.
  boost::asio::awaitable<void> hand_over(std::vector<StreamEntry>& entries, bool caught_up);
  // On the engine strand: each batch handed over, applied.
  boost::asio::awaitable<void> apply_handed_over();
  // The stream entry to read on from: the loaded checkpoint's, or "0" when none fits.
  boost::asio::awaitable<std::string> load_checkpoint();
  boost::asio::awaitable<void> write_checkpoints();
  boost::asio::awaitable<void> write_checkpoint();
  bool checkpoint_due(LivePipeline::Clock::time_point now) const;

  // A batch of stream entries and whether the follower has caught up with it.
  using Handoff = boost::asio::experimental::concurrent_channel<void(
      boost::system::error_code, std::vector<StreamEntry>, bool)>;

  boost::asio::any_io_executor strand_;
  boost::asio::any_io_executor follower_strand_;
  KeySchema keys_;
  std::shared_ptr<RedisConnection> follower_redis_;
  std::shared_ptr<RedisConnection> materializer_redis_;
  StateMaterializer materializer_;
  LivePipeline pipeline_;
  Handoff handoff_;
  boost::asio::steady_timer publish_timer_;
  std::optional<LivePipeline::Clock::time_point> timer_due_;  // what publish_timer_ waits for
  std::chrono::seconds checkpoint_interval_;
  boost::asio::steady_timer checkpoint_timer_;
  // Encodes checkpoints off the engine's strand: only the snapshot (a copy of what the engine
  // keeps) holds up the stream.
  boost::asio::thread_pool checkpoint_encoder_{1};
  std::uint64_t checkpoint_entries_ = 0;  // entries the last checkpoint written or loaded holds
  LivePipeline::Clock::time_point checkpoint_tried_{};  // the last write begun
  LivePipeline::Clock::time_point entries_arrived_{};   // the last batch with entries
  bool writing_checkpoint_ = false;
  // The stream lost entries this node applied: none written. Set on the follower strand.
  std::atomic<bool> checkpoints_stale_ = false;
  bool checkpoint_failing_ = false;  // the last write failed (logged once until one succeeds)
  bool stopped_ = false;
};

}  // namespace splitstream
