#include "pipeline/pipeline_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "observe/log.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kFlushPoll{10};

}  // namespace

PipelineService::PipelineService(asio::any_io_executor engine_strand, const RedisOptions& redis,
                                 KeySchema keys, RaceEngine& engine, PushHub& hub,
                                 CorrectionLog& corrections, LivePipelineOptions options)
    : strand_(std::move(engine_strand)),
      keys_(std::move(keys)),
      follower_redis_(RedisConnection::create(strand_, redis)),
      materializer_redis_(RedisConnection::create(strand_, redis)),
      materializer_(materializer_redis_, keys_, engine),
      pipeline_(engine, hub, materializer_, corrections, options),
      publish_timer_(strand_) {}

void PipelineService::start(const CompletionFor& completion) {
  asio::co_spawn(strand_, follower_redis_->run(), completion("redis (follower)"));
  asio::co_spawn(strand_,
                 follow_stream(follower_redis_, keys_.reads(),
                               [this](std::vector<StreamEntry>& entries, bool caught_up) {
                                 on_entries(entries, caught_up);
                               }),
                 completion("stream follower"));
  asio::co_spawn(strand_, materializer_redis_->run(), completion("redis (materializer)"));
  asio::co_spawn(strand_, materializer_.run(), completion("state materializer"));
  asio::co_spawn(strand_, publish_on_time(), completion("publish timer"));
}

void PipelineService::on_entries(std::vector<StreamEntry>& entries, bool caught_up) {
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
}

void PipelineService::stop() {
  stopped_ = true;
  materializer_.stop();
  publish_timer_.cancel();
  materializer_redis_->stop();
  follower_redis_->stop();
}

}  // namespace splitstream
