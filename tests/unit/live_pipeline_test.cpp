// The live pipeline without Redis or sockets: stream entries in, the engine, the derived-state
// sink, the push hub, the publish cadence on an injected clock, and the progress /readyz reads.
#include "pipeline/live_pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "push/live_protocol.hpp"
#include "support/engine_harness.hpp"

namespace splitstream {
namespace {

using namespace std::chrono_literals;
using splitstream::testing::kGun;
using splitstream::testing::kMin;

// Records what the pipeline hands to Redis's side.
class RecordingSink final : public DerivedStateSink {
 public:
  void runner_changed(RunnerIndex runner) override { changed.push_back(runner); }
  void applied_up_to(std::string version, std::uint64_t reads_applied, bool replayed) override {
    last_version = std::move(version);
    applied = reads_applied;
    caught_up = replayed;
  }
  bool idle() const override { return stored; }

  std::vector<RunnerIndex> changed;
  std::string last_version;
  std::uint64_t applied = 0;
  bool caught_up = false;
  bool stored = true;
};

// A viewer that keeps every message it is sent.
class RecordingViewer final : public LiveSubscriber {
 public:
  LiveFormat format() const override { return LiveFormat::protobuf; }
  void deliver(std::shared_ptr<const LiveFrame> frame) override {
    v1::LiveMessage message;
    EXPECT_TRUE(message.ParseFromString(std::string(frame->bytes(LiveFormat::protobuf))));
    messages.push_back(std::move(message));
  }
  std::vector<v1::LiveMessage> messages;
};

StreamEntry read_entry(std::string id, std::string timing_point, std::string chip, TimeMs t) {
  StreamEntry e;
  e.id = std::move(id);
  e.device = "d1";
  e.timing_point = std::move(timing_point);
  e.chip = std::move(chip);
  e.time_ms = t;
  return e;
}

StreamEntry dnf_entry(std::string id, std::string bib) {
  StreamEntry e;
  e.id = std::move(id);
  Correction c;
  c.kind = CorrectionKind::set_status;
  c.bib = std::move(bib);
  c.status = OfficialStatus::dnf;
  e.correction = c;
  return e;
}

class LivePipelineTest : public ::testing::Test {
 protected:
  LivePipelineTest()
      : event_(splitstream::testing::ten_k()
                   .runner("1", "C1", "10k")
                   .runner("2", "C2", "10k")
                   .build()),
        engine_(event_),
        hub_(engine_),
        catalog_(event_),
        pipeline_(
            engine_, hub_, sink_, corrections_, LivePipelineOptions{50ms}, [this] { return now_; },
            [this] { return wall_ms_; }) {}

  // A viewer of every passing, subscribed from the start.
  std::shared_ptr<RecordingViewer> watch_passings() {
    auto viewer = std::make_shared<RecordingViewer>();
    v1::Subscribe subscribe;
    subscribe.set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
    auto shapes = resolve_subscribe(catalog_, subscribe, LiveLimits{});
    hub_.subscribe(viewer, std::get<std::vector<SubscriptionShape>>(shapes), 0, 50);
    viewer->messages.clear();  // the (empty) snapshot
    return viewer;
  }

  static std::size_t passings_in(const std::vector<v1::LiveMessage>& messages) {
    std::size_t n = 0;
    for (const auto& m : messages)
      n += m.has_passing() ? 1 : static_cast<std::size_t>(m.passings().passings_size());
    return n;
  }

  Event event_;
  RaceEngine engine_;
  PushHub hub_;
  LiveCatalog catalog_;
  RecordingSink sink_;
  CorrectionLog corrections_;
  LivePipeline::Clock::time_point now_{std::chrono::hours(1)};
  TimeMs wall_ms_ = kGun;
  LivePipeline pipeline_;
};

TEST_F(LivePipelineTest, ReadsReachTheEngineTheSinkAndTheProgress) {
  pipeline_.apply({read_entry("1000-0", "start", "C1", kGun + 5'000),
                   read_entry("1000-1", "k5", "C1", kGun + 25 * kMin),
                   read_entry("1000-2", "k5", "C2", kGun + 27 * kMin)},
                  false);
  EXPECT_EQ(engine_.splits(0).furthest, 1);
  EXPECT_EQ(engine_.splits(1).furthest, 1);
  EXPECT_EQ(sink_.changed, (std::vector<RunnerIndex>{0, 0, 1}));
  EXPECT_EQ(sink_.last_version, "1000-2");
  EXPECT_EQ(sink_.applied, 3u);
  EXPECT_FALSE(sink_.caught_up);
  const PipelineProgress p = pipeline_.progress();
  EXPECT_EQ(p.applied, 3u);
  EXPECT_EQ(p.skipped, 0u);
  EXPECT_EQ(p.last_id, "1000-2");
  EXPECT_FALSE(p.caught_up);
  EXPECT_EQ(hub_.version(), 3u);  // the version of an update: stream entries applied
}

TEST_F(LivePipelineTest, AnEntryForAnUnknownTimingPointIsSkippedAndCounted) {
  pipeline_.apply({read_entry("1-0", "nowhere", "C1", kGun), read_entry("1-1", "k5", "C1", kGun)},
                  true);
  const PipelineProgress p = pipeline_.progress();
  EXPECT_EQ(p.applied, 1u);
  EXPECT_EQ(p.skipped, 1u);
  EXPECT_EQ(p.last_id, "1-1");
  EXPECT_TRUE(p.caught_up);
  EXPECT_TRUE(sink_.caught_up);
  EXPECT_EQ(hub_.version(), 2u);  // a skipped entry still counts as a version
}

TEST_F(LivePipelineTest, CorrectionsAreAppliedInStreamOrderAndLogged) {
  pipeline_.apply({read_entry("1-0", "k5", "C2", kGun + 30 * kMin), dnf_entry("2-0", "2"),
                   dnf_entry("3-0", "99")},
                  true);
  EXPECT_EQ(engine_.status(1), RunnerStatus::dnf);
  ASSERT_EQ(corrections_.total(), 2u);
  ASSERT_NE(corrections_.find("2-0"), nullptr);
  EXPECT_FALSE(corrections_.find("2-0")->error);
  ASSERT_NE(corrections_.find("3-0"), nullptr);
  EXPECT_TRUE(corrections_.find("3-0")->error);  // no bib 99: recorded, not applied
  const PipelineProgress p = pipeline_.progress();
  EXPECT_EQ(p.applied, 2u);
  EXPECT_EQ(p.skipped, 1u);
}

TEST_F(LivePipelineTest, UpdatesGoOutAtMostOncePerInterval) {
  auto viewer = watch_passings();
  // The first batch: the last publish is long past, so it goes out at once.
  pipeline_.apply({read_entry("1-0", "start", "C1", kGun + 4'000)}, true);
  EXPECT_EQ(passings_in(viewer->messages), 1u);
  EXPECT_FALSE(pipeline_.publish_due());
  // 10 ms later: held back until 50 ms after the last publish.
  now_ += 10ms;
  pipeline_.apply({read_entry("2-0", "start", "C2", kGun + 6'000)}, false);
  EXPECT_EQ(passings_in(viewer->messages), 1u);
  ASSERT_TRUE(pipeline_.publish_due());
  EXPECT_EQ(*pipeline_.publish_due(), now_ + 40ms);
  // Another batch within the interval joins the same publish.
  now_ += 20ms;
  pipeline_.apply({read_entry("3-0", "k5", "C1", kGun + 25 * kMin)}, false);
  EXPECT_EQ(*pipeline_.publish_due(), now_ + 20ms);
  // A timer that fires early publishes nothing.
  now_ += 19ms;
  pipeline_.publish_if_due();
  EXPECT_EQ(passings_in(viewer->messages), 1u);
  now_ += 1ms;
  pipeline_.publish_if_due();
  EXPECT_EQ(passings_in(viewer->messages), 3u);
  EXPECT_FALSE(pipeline_.publish_due());
  // Nothing due: a timer firing publishes nothing more.
  now_ += 1s;
  pipeline_.publish_if_due();
  EXPECT_EQ(passings_in(viewer->messages), 3u);
  // An interval after the last publish, a batch goes out at once again.
  pipeline_.apply({read_entry("4-0", "k5", "C2", kGun + 26 * kMin)}, false);
  EXPECT_EQ(passings_in(viewer->messages), 4u);
}

TEST_F(LivePipelineTest, FlushedOnlyOnceAppliedAndStored) {
  pipeline_.apply({read_entry("5-0", "start", "C1", kGun)}, true);
  EXPECT_TRUE(pipeline_.flushed_to("5-0"));
  EXPECT_TRUE(pipeline_.flushed_to("4-9"));
  EXPECT_FALSE(pipeline_.flushed_to("5-1"));  // not applied yet
  sink_.stored = false;
  EXPECT_FALSE(pipeline_.flushed_to("5-0"));  // applied, not yet in Redis
}

// A second node over the same event, with nothing applied: where a checkpoint is loaded.
struct FreshNode {
  explicit FreshNode(const Event& event, PushHub::WallClock wall_clock = wall_clock_now)
      : engine(event),
        hub(engine, PushHubOptions{}, std::move(wall_clock)),
        pipeline(engine, hub, sink, corrections, LivePipelineOptions{}) {}
  RaceEngine engine;
  PushHub hub;
  RecordingSink sink;
  CorrectionLog corrections;
  LivePipeline pipeline;
};

std::string passings_bytes(const PushHub& hub) {
  std::string out;
  for (const v1::Passing& p : hub.recent_passings(kNoIndex, 100))
    out += p.SerializeAsString();
  return out;
}

TEST_F(LivePipelineTest, ANodeLoadingACheckpointGoesOnAsTheNodeThatTookIt) {
  auto viewer = watch_passings();
  pipeline_.apply({read_entry("1-0", "start", "C1", kGun + 4'000),
                   read_entry("1-1", "start", "C2", kGun + 6'000), dnf_entry("2-0", "2"),
                   read_entry("2-1", "nowhere", "C2", kGun)},
                  true);
  now_ += 10ms;
  pipeline_.apply({read_entry("3-0", "k5", "C1", kGun + 25 * kMin)}, false);
  ASSERT_TRUE(pipeline_.publish_due());  // 5 km waits for the next publish...
  const NodeCheckpoint checkpoint = pipeline_.checkpoint();
  EXPECT_FALSE(pipeline_.publish_due());  // ...which the checkpoint made first
  EXPECT_EQ(passings_in(viewer->messages), 3u);
  EXPECT_EQ(checkpoint.stream_id, "3-0");
  EXPECT_EQ(checkpoint.entries, 5u);
  EXPECT_EQ(checkpoint.applied, 4u);
  EXPECT_EQ(checkpoint.skipped, 1u);
  EXPECT_EQ(checkpoint.hub.version, 5u);
  EXPECT_EQ(checkpoint.hub.passings.size(), 3u);
  ASSERT_EQ(checkpoint.corrections.size(), 1u);
  EXPECT_EQ(checkpoint.corrections[0].id, "2-0");
  EXPECT_EQ(checkpoint.event_fingerprint, event_fingerprint(event_));

  FreshNode node(event_);
  ASSERT_EQ(node.pipeline.restore(checkpoint), std::nullopt);
  EXPECT_EQ(node.engine.status(1), RunnerStatus::dnf);
  EXPECT_EQ(node.engine.splits(0).furthest, 1);
  EXPECT_EQ(node.hub.version(), 5u);
  EXPECT_EQ(passings_bytes(node.hub), passings_bytes(hub_));
  EXPECT_EQ(node.corrections.total(), 1u);
  EXPECT_EQ(node.sink.changed, (std::vector<RunnerIndex>{0, 1}));  // to be written out again
  const PipelineProgress loaded = node.pipeline.progress();
  EXPECT_EQ(loaded.last_id, "3-0");
  EXPECT_EQ(loaded.applied, 4u);
  EXPECT_EQ(loaded.skipped, 1u);
  EXPECT_FALSE(loaded.caught_up);  // until the follower has read the stream's tail

  // The tail, to both: the same versions, passings and state.
  const std::vector<StreamEntry> tail = {read_entry("4-0", "finish", "C1", kGun + 50 * kMin),
                                         read_entry("4-1", "k5", "C2", kGun + 27 * kMin)};
  now_ += 1s;
  pipeline_.apply(tail, true);
  node.pipeline.apply(tail, true);
  node.pipeline.publish_if_due();
  EXPECT_EQ(node.hub.version(), hub_.version());
  EXPECT_EQ(passings_bytes(node.hub), passings_bytes(hub_));
  EXPECT_EQ(node.pipeline.progress().applied, pipeline_.progress().applied);
  EXPECT_EQ(node.pipeline.progress().last_id, "4-1");
  EXPECT_EQ(splitstream::testing::full_state_of(node.engine),
            splitstream::testing::full_state_of(engine_));
}

TEST_F(LivePipelineTest, ACheckpointOfAnotherEventOrIntoABusyNodeIsRefused) {
  pipeline_.apply({read_entry("1-0", "start", "C1", kGun + 4'000)}, true);
  NodeCheckpoint checkpoint = pipeline_.checkpoint();
  const Event other =
      splitstream::testing::ten_k().runner("1", "C1", "10k").runner("2", "C7", "10k").build();
  FreshNode elsewhere(other);
  const auto error = elsewhere.pipeline.restore(checkpoint);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("another version of the event"), std::string::npos) << *error;
  EXPECT_EQ(elsewhere.engine.counters().reads, 0u);
  // A node whose live gate hides the race (its clock before the gun) kept no passings of it
  // while hidden; this checkpoint has them: it does not fit.
  FreshNode before_gun(event_, [] { return kGun - 60'000; });
  const auto gated = before_gun.pipeline.restore(checkpoint);
  ASSERT_TRUE(gated);
  EXPECT_EQ(*gated, "race 10k was shown by the live gate then, not now");
  EXPECT_EQ(before_gun.engine.counters().reads, 0u);
  // The node that took it has applied entries: nothing more is loaded there.
  EXPECT_EQ(pipeline_.restore(checkpoint),
            std::optional<std::string>("the node has applied stream entries already"));
}

}  // namespace
}  // namespace splitstream
