// The shared state of live push (Beast's chat-server `shared_state`): who follows what, and the
// updates built from the engine after each batch of stream entries. Every update is encoded
// once per subscription shape and format; all its subscribers share the bytes. Lives on the
// engine's strand: every member function is called there.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/race_engine.hpp"
#include "push/live_gate.hpp"
#include "push/live_protocol.hpp"

namespace splitstream {

// One live message, encoded for the formats its subscribers use.
struct LiveFrame {
  enum class Kind : std::uint8_t {
    snapshot,  // replaces the client's state of the subscription
    delta,     // applies to the previous state: may be coalesced into a later snapshot
    append,    // adds to it (passings, runner states): never dropped
    reply,     // an answer to the client's own message
  };
  Kind kind = Kind::append;
  // Wall time the oldest read it carries was stored in Redis (its stream ID's milliseconds), for
  // the device-to-viewer latency; 0 for frames that carry no new read (snapshots, replies).
  TimeMs stored_ms = 0;
  std::string subscription;

  // Sets a format's message: its whole WebSocket frame (text for JSON, binary for Protobuf) is
  // built here once, header and message together. Server frames are not masked, so these
  // bytes go as they are to every viewer of that format.
  void set(LiveFormat format, std::string_view message);
  // The message in a format (set before).
  std::string_view bytes(LiveFormat format) const {
    return std::string_view(wire(format))
        .substr(format == LiveFormat::protobuf ? protobuf_header_ : json_header_);
  }
  bool has(LiveFormat format) const { return !wire(format).empty(); }
  // Its WebSocket frame.
  const std::string& wire(LiveFormat format) const {
    return format == LiveFormat::protobuf ? protobuf_wire_ : json_wire_;
  }

 private:
  std::string json_wire_;
  std::string protobuf_wire_;
  std::uint8_t json_header_ = 0;
  std::uint8_t protobuf_header_ = 0;
};

std::shared_ptr<const LiveFrame> make_frame(const v1::LiveMessage& message, LiveFrame::Kind kind,
                                            bool json, bool protobuf, TimeMs stored_ms = 0);

// A connection that receives frames (websocket_session). deliver() may be called from any
// thread; the subscriber queues the frame on its own strand.
class LiveSubscriber {
 public:
  virtual ~LiveSubscriber() = default;
  virtual LiveFormat format() const = 0;
  virtual void deliver(std::shared_ptr<const LiveFrame> frame) = 0;
};

struct PushHubOptions {
  std::size_t passings_kept = 10'000;  // for resume and GET /api/v1/passings
  // The live gate (push/live_gate.hpp): a race shows nothing before its earliest gun.
  bool live_gate = true;
};

struct PushHubStats {
  std::size_t shapes = 0;
  std::size_t subscriptions = 0;
  std::uint64_t frames_built = 0;
  std::uint64_t frames_delivered = 0;
};

// What a node's checkpoint keeps of the hub (pipeline/checkpoint.hpp).
struct HubSnapshot {
  std::uint64_t version = 0;
  TimeMs race_clock = 0;
  std::uint64_t passings_floor = 0;
  std::vector<v1::Passing> passings;  // recent passings, oldest first
  // By race: hidden by the live gate when it was taken. Their passings were not kept, so it
  // fits only a hub that hides the same races (after a gun, the stream is replayed instead).
  std::vector<bool> hidden_races;
};

class PushHub {
 public:
  using WallClock = std::function<TimeMs()>;

  // `engine` must outlive the hub. `wall_clock` is what the live gate compares the guns with.
  explicit PushHub(const RaceEngine& engine, PushHubOptions options = {},
                   WallClock wall_clock = wall_clock_now);

  // Right after engine.apply() of the stream entry numbered `version` (read time `time_ms`).
  void note_applied(const ApplyResult& result, std::uint64_t version, TimeMs time_ms);
  // Right after a correction (the stream entry numbered `version`) re-derived these runners.
  // A split that gained a time becomes a passing like any other.
  void note_corrected(const std::vector<RunnerChange>& changes, std::uint64_t version);
  // After a batch of entries: builds and delivers every update. `stored_ms`: when the oldest
  // read in it was stored (0: unknown), carried by its frames for the latency metric.
  // The live gate is looked at here: a race whose gun has passed since the last publish opens,
  // and its subscribers get fresh snapshots (standings, runners) or its runners (map).
  void publish(TimeMs stored_ms = 0);

  // A console feed's new content (the JSON its REST endpoint answers): delivered as a snapshot
  // to its subscribers when it differs from the last, and kept for new ones.
  void publish_console(v1::SubscriptionKind kind, std::string json, TimeMs server_time_ms);
  // Whether any viewer follows a subscription of this kind.
  bool has_subscribers(v1::SubscriptionKind kind) const;

  // Adds the shapes for `subscriber` and sends each its snapshot (or, for passings resumed
  // from a version still kept, exactly the passings after it).
  void subscribe(const std::shared_ptr<LiveSubscriber>& subscriber,
                 const std::vector<SubscriptionShape>& shapes, std::uint64_t since_version,
                 std::uint32_t passings_snapshot);
  void unsubscribe(const LiveSubscriber* subscriber, std::string_view key);
  void remove(const LiveSubscriber* subscriber);
  // A subscriber that dropped deltas asks for the current state again.
  void resend_snapshot(const std::shared_ptr<LiveSubscriber>& subscriber, std::string_view key);

  // Taken right after publish() (nothing is waiting to go out).
  HubSnapshot snapshot() const;
  // Why `snapshot` does not fit this hub (the live gate hides other races now); nullopt: fits.
  std::optional<std::string> misfit(const HubSnapshot& snapshot) const;
  // Before any entry is noted, with a snapshot that fits: the hub as it was when it was taken.
  void restore(HubSnapshot snapshot);

  std::uint64_t version() const { return version_; }
  // The latest race time applied: the clock projections and ETAs use.
  TimeMs race_clock() const { return race_clock_; }
  // Most recent passings first, at one timing point (kNoIndex: all). Never a passing of a race
  // the live gate hid when it was published.
  std::vector<v1::Passing> recent_passings(TimingPointIndex timing_point, std::size_t limit) const;
  // Whether the live gate hides the race now, by the hub's wall clock (the REST API asks).
  bool race_gated(RaceIndex race) const { return gate_.closed(race, wall_clock_()); }
  // How long until the first race the live outputs still hide (as of the last publish) opens,
  // by the wall clock: 0 or less when its gun has passed (the next publish opens it); nullopt
  // when none is hidden. The pipeline publishes then, so a race opens with nothing else going on.
  std::optional<DurationMs> until_gate_opens() const;
  PushHubStats stats() const;

 private:
  struct Subscriber {
    std::weak_ptr<LiveSubscriber> subscriber;
    const LiveSubscriber* id;
    LiveFormat format;
  };
  struct Shape {
    SubscriptionShape shape;
    std::vector<Subscriber> subscribers;
    v1::StandingsSnapshot page;  // standings: the page as last published
  };

  v1::LiveMessage snapshot_message(Shape& shape, std::uint32_t passings_snapshot);
  // A standings page and a runner's detail as the live outputs show them (the gate applied).
  v1::StandingsSnapshot page_of(const SubscriptionShape& shape) const;
  v1::RunnerDetail runner_detail(RunnerIndex runner) const;
  // Whether the runner's race is hidden (as of the last publish).
  bool hidden(RunnerIndex runner) const;
  // The runners of `race` (kNoIndex: all) who have started, but for hidden races.
  void add_started_runners(v1::RunnerStateBatch& batch, RaceIndex race) const;
  // Updates hidden_races_ from the clock; the races whose state changed (those that opened).
  std::vector<RaceIndex> look_at_gate();
  void deliver(Shape& shape, const v1::LiveMessage& message, LiveFrame::Kind kind);
  bool passing_matches(const SubscriptionShape& shape, const v1::Passing& passing) const;
  void note_runner(RunnerIndex runner, std::span<const std::uint16_t> changed_splits,
                   std::uint64_t version);

  const RaceEngine& engine_;
  PushHubOptions options_;
  LiveGate gate_;
  WallClock wall_clock_;
  // By race: what the live outputs hide, as of the last publish (or construction).
  std::vector<bool> hidden_races_;
  std::map<std::string, Shape, std::less<>> shapes_;
  std::uint64_t version_ = 0;            // stream entries applied
  std::uint64_t published_version_ = 0;  // version_ at the last publish()
  TimeMs race_clock_ = 0;
  TimeMs publishing_stored_ms_ = 0;  // during publish()
  // Since the last publish().
  std::vector<RunnerIndex> changed_;
  std::vector<bool> is_changed_;
  std::vector<v1::Passing> new_passings_;
  // Recent passings, oldest first, and the version of the newest one dropped from them.
  std::deque<v1::Passing> passings_;
  std::uint64_t passings_floor_ = 0;
  // The console feeds' latest content and when it was built, by kind.
  std::map<v1::SubscriptionKind, std::pair<std::string, TimeMs>> console_feeds_;
  std::uint64_t frames_built_ = 0;
  std::uint64_t frames_delivered_ = 0;
};

}  // namespace splitstream
