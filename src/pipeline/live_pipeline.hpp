// The product's central loop, without I/O: stream entries in (reads and officials'
// corrections, as the follower hands them over), applied to the engine in stream order; the
// runners they changed handed to the derived-state sink (Redis) and the push hub; updates
// published to viewers at most once per publish interval; and the node's progress for /readyz.
//
// It owns no timer and reads no clock of its own: `now` is injected, and the shell
// (pipeline/pipeline_service) arms a timer for publish_due() and calls publish_if_due(). All
// calls but progress() come from one strand (the engine's); progress() may be called from any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "engine/race_engine.hpp"
#include "pipeline/checkpoint.hpp"
#include "pipeline/correction_log.hpp"
#include "push/push_hub.hpp"
#include "store/state_materializer.hpp"
#include "store/stream_follower.hpp"

namespace splitstream {

// What this node's engine has applied from the stream.
struct PipelineProgress {
  bool caught_up = false;     // the stream as it was at start-up has been replayed
  std::uint64_t applied = 0;  // stream entries the engine applied
  std::uint64_t skipped = 0;  // entries naming a timing point this event lacks; failed corrections
  std::string last_id = "0";  // the last stream entry handed over
};

struct LivePipelineOptions {
  // Updates go out at most this often, so a viewer gets a few larger messages a second rather
  // than one per stream read, whatever the read rate.
  std::chrono::milliseconds publish_interval{50};
  // A checkpoint goes to Redis this often while entries arrive, and when they pause for a
  // couple of seconds (the end of a burst or of the race); a starting node loads the latest.
  // 0: none written, none loaded (the node replays the whole stream).
  std::chrono::seconds checkpoint_interval{30};
};

class LivePipeline {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;
  using WallNow = std::function<TimeMs()>;

  // Every reference must outlive the pipeline. `wall_now` dates the stored-to-publish latency
  // against the stream IDs' milliseconds.
  LivePipeline(RaceEngine& engine, PushHub& hub, DerivedStateSink& state,
               CorrectionLog& corrections, LivePipelineOptions options, Now now = Clock::now,
               WallNow wall_now = wall_clock_now);

  // A batch from the stream follower, in stream order. `caught_up`: the follower has handed
  // over everything stored before the node started. Publishes at once when the last publish
  // is an interval old, else makes one due.
  void apply(const std::vector<StreamEntry>& entries, bool caught_up);

  // When the next publish is due; nullopt when none is waiting. While the hub's live gate hides
  // a race, a publish is due at its gun and at least every second (the wall clock may be
  // stepped), so that the race opens with no read coming in.
  std::optional<Clock::time_point> publish_due() const;
  // Publishes if one is due by now (the shell's timer fired).
  void publish_if_due();

  // A checkpoint of the node's state after the entries applied so far (pipeline/checkpoint):
  // publishes first what is waiting to go out, so that the hub holds nothing unpublished.
  NodeCheckpoint checkpoint();
  // Before the first apply(): the engine, hub, corrections log and progress as `checkpoint`
  // holds them; the runners it holds go to the derived-state sink as changed (as a replay of
  // their reads would). An error says why it does not fit this event; then nothing changed.
  std::optional<std::string> restore(const NodeCheckpoint& checkpoint);
  // Stream entries handed over so far (the version of the next update minus one).
  std::uint64_t entries_seen() const { return entries_seen_; }

  // Any thread.
  PipelineProgress progress() const;
  // True when the engine has applied the stream up to `id` and the sink has stored it all.
  bool flushed_to(std::string_view id) const;

 private:
  void apply_correction(const StreamEntry& entry, std::uint64_t& applied, std::uint64_t& skipped);
  void publish();
  // Makes gate_check_ due when the hub hides a race and none is due yet.
  void arm_gate_check();

  RaceEngine& engine_;
  PushHub& hub_;
  DerivedStateSink& state_;
  CorrectionLog& corrections_;
  LivePipelineOptions options_;
  Now now_;
  WallNow wall_now_;
  // The event's fingerprint, hashed once (the event does not change while the node runs).
  std::string fingerprint_;

  std::uint64_t entries_seen_ = 0;  // the version of the next update
  bool live_ = false;               // caught up: latency is measured from here on
  // Stored time (the stream id's milliseconds) of the oldest read not yet published; 0: none.
  // Replaying the stream at start-up is not latency.
  TimeMs oldest_unpublished_ms_ = 0;
  Clock::time_point last_publish_{};
  std::optional<Clock::time_point> publish_due_;
  std::optional<Clock::time_point> gate_check_;  // a publish for the live gate

  mutable std::mutex progress_mutex_;
  PipelineProgress progress_;  // guarded by progress_mutex_
};

}  // namespace splitstream
