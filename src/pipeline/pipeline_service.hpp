// The live pipeline on the engine's strand, with its I/O: the stream follower and the state
// materializer, each over its own Redis connection (XREAD BLOCK holds one), and the timer of the
// publish cadence. A read ingested by any node reaches this node's engine through the stream,
// and a restart replays the race.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
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

  // `engine_strand` runs everything below; engine, hub and corrections live on it.
  PipelineService(boost::asio::any_io_executor engine_strand, const RedisOptions& redis,
                  KeySchema keys, RaceEngine& engine, PushHub& hub, CorrectionLog& corrections,
                  LivePipelineOptions options);

  // Spawns the Redis connections, the follower, the materializer and the publish timer, each
  // with the completion handler `completion` gives for it.
  void start(const CompletionFor& completion);
  // On the engine strand: until the engine has applied the stream up to `last_id` and the
  // materializer has written it out, or `deadline`, or the materializer's Redis is away.
  boost::asio::awaitable<void> flush(std::string last_id,
                                     std::chrono::steady_clock::time_point deadline);
  // Ends every coroutine of start(); final. On the engine strand.
  void stop();

  const LivePipeline& pipeline() const { return pipeline_; }
  const std::shared_ptr<RedisConnection>& follower_redis() const { return follower_redis_; }
  const std::shared_ptr<RedisConnection>& materializer_redis() const { return materializer_redis_; }

 private:
  boost::asio::awaitable<void> publish_on_time();
  void on_entries(std::vector<StreamEntry>& entries, bool caught_up);

  boost::asio::any_io_executor strand_;
  KeySchema keys_;
  std::shared_ptr<RedisConnection> follower_redis_;
  std::shared_ptr<RedisConnection> materializer_redis_;
  StateMaterializer materializer_;
  LivePipeline pipeline_;
  boost::asio::steady_timer publish_timer_;
  std::optional<LivePipeline::Clock::time_point> timer_due_;  // what publish_timer_ waits for
  bool stopped_ = false;
};

}  // namespace splitstream
