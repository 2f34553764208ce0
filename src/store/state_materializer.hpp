// Keeps the engine's derived state in Redis next to the stream: the runners a batch of stream
// entries changed are written (per-runner hashes, standings sorted sets) by one script call at
// a time, labelled with the stream ID the engine had reached. While a write is in flight, newly
// changed runners accumulate and go out together in the next one, so a busy race costs a few
// writes per second, not one per read. Runs on the engine's strand, over its own connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/race_engine.hpp"
#include "store/key_schema.hpp"
#include "store/redis_script.hpp"

namespace splitstream {

class RedisConnection;

struct MaterializerStatus {
  std::string written_version;   // the last version this node's write was taken (or superseded)
  std::uint64_t writes = 0;      // script calls that wrote
  std::uint64_t superseded = 0;  // script calls that found a newer version there
  std::uint64_t failures = 0;    // script calls that failed (retried)
};

// Where the live pipeline hands what the engine changed (StateMaterializer; a fake in tests).
class DerivedStateSink {
 public:
  virtual ~DerivedStateSink() = default;
  // After the engine applied a stream entry that changed this runner.
  virtual void runner_changed(RunnerIndex runner) = 0;
  // After a batch: the engine has applied the stream up to `version`.
  virtual void applied_up_to(std::string version, std::uint64_t reads_applied, bool caught_up) = 0;
  // True when everything handed over so far is stored.
  virtual bool idle() const = 0;
};

class StateMaterializer final : public DerivedStateSink {
 public:
  // `engine` must outlive the materializer; everything runs on `redis`'s executor.
  StateMaterializer(std::shared_ptr<RedisConnection> redis, KeySchema keys,
                    const RaceEngine& engine);

  // Called on the strand after the engine applied stream entries up to `version`.
  void runner_changed(RunnerIndex runner) override;
  void applied_up_to(std::string version, std::uint64_t reads_applied, bool caught_up) override;

  // Writes until stop(). Nothing is written before the engine has caught up with the stream:
  // a replaying node would only write states older than those already there.
  boost::asio::awaitable<void> run();
  void stop();

  // True when every change handed over so far is in Redis (or superseded).
  bool idle() const override { return dirty_.empty() && !in_flight_; }
  const MaterializerStatus& status() const { return status_; }

 private:
  void take_dirty(std::vector<RunnerIndex>& into);

  std::shared_ptr<RedisConnection> redis_;
  KeySchema keys_;
  const RaceEngine& engine_;
  RedisScript script_;
  boost::asio::steady_timer wake_;
  std::vector<RunnerIndex> dirty_;
  std::vector<bool> is_dirty_;
  std::string version_;
  std::uint64_t reads_applied_ = 0;
  bool caught_up_ = false;
  bool in_flight_ = false;
  bool stopped_ = false;
  MaterializerStatus status_;
};

}  // namespace splitstream
