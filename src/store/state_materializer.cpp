#include "store/state_materializer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "observe/log.hpp"
#include "store/materialize_script.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {
namespace {

constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
constexpr std::chrono::milliseconds kRetryDelay{250};

}  // namespace

StateMaterializer::StateMaterializer(std::shared_ptr<RedisConnection> redis, KeySchema keys,
                                     const RaceEngine& engine)
    : redis_(std::move(redis)),
      keys_(std::move(keys)),
      engine_(engine),
      script_(materialize_script()),
      wake_(redis_->executor()),
      is_dirty_(engine.event().participants.size(), false) {}

void StateMaterializer::runner_changed(RunnerIndex runner) {
  if (runner >= is_dirty_.size() || is_dirty_[runner]) return;
  is_dirty_[runner] = true;
  dirty_.push_back(runner);
}

void StateMaterializer::applied_up_to(std::string version, std::uint64_t reads_applied,
                                      bool caught_up) {
  version_ = std::move(version);
  reads_applied_ = reads_applied;
  caught_up_ = caught_up_ || caught_up;
  if (caught_up_ && !dirty_.empty()) wake_.cancel();
}

void StateMaterializer::stop() {
  stopped_ = true;
  wake_.cancel();
}

void StateMaterializer::take_dirty(std::vector<RunnerIndex>& into) {
  for (RunnerIndex r : dirty_) {
    is_dirty_[r] = false;
    into.push_back(r);
  }
  dirty_.clear();
}

boost::asio::awaitable<void> StateMaterializer::run() {
  std::vector<RunnerIndex> batch;
  std::string label;
  bool failing = false;
  while (!stopped_) {
    if (!caught_up_ || dirty_.empty()) {
      wake_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await wake_.async_wait(kNoThrow);
      continue;
    }
    // The arguments are built when the command is sent, on this strand, so the runners' state
    // and the version label are one consistent snapshot of the engine.
    in_flight_ = true;
    const RedisConnection::CommandResult result =
        co_await script_.call(*redis_, [&](std::vector<std::string>& command) {
          take_dirty(batch);
          label = version_;
          append_materialize_args(command, engine_, keys_, batch, label, reads_applied_);
        });
    in_flight_ = false;
    const boost::system::error_code& error = std::get<0>(result);
    const RedisReply& reply = std::get<1>(result);
    const auto written = reply.to_integer();
    if (!error && written && (*written == 0 || *written == 1)) {
      if (*written == 1) {
        ++status_.writes;
      } else {
        ++status_.superseded;
      }
      status_.written_version = label;
      batch.clear();
      if (failing) log::info("store", "materialised state written again");
      failing = false;
      continue;
    }
    // Outcome unknown or refused: these runners go out again with the next write.
    ++status_.failures;
    if (!failing) {
      log::warn("store", "materialising state failed (" +
                             (error ? error.message() : reply.debug_string()) + "); retrying");
    }
    failing = true;
    for (RunnerIndex r : batch)
      runner_changed(r);
    batch.clear();
    boost::asio::steady_timer retry(redis_->executor(), kRetryDelay);
    co_await retry.async_wait(kNoThrow);
  }
}

}  // namespace splitstream
