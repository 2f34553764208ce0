// A viewer's send queue without sockets: which frames wait, which standings deltas are
// coalesced, when snapshots are asked again, when the viewer is shed, and the frames, bytes and
// metrics it accounts for. Frames are built by hand with payloads of known sizes.
#include "push/viewer_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "observe/server_metrics.hpp"

namespace splitstream {
namespace {

using Kind = LiveFrame::Kind;
using Decision = ViewerQueue::Decision;

// A frame of `bytes` bytes in JSON and twice as many in Protobuf, so that a test can tell
// which format the queue counted.
std::shared_ptr<const LiveFrame> frame(Kind kind, const std::string& subscription,
                                       std::size_t bytes) {
  auto f = std::make_shared<LiveFrame>();
  f->kind = kind;
  f->subscription = subscription;
  f->set(LiveFormat::json, std::string(bytes, 'j'));
  f->set(LiveFormat::protobuf, std::string(2 * bytes, 'p'));
  return f;
}

ViewerQueueOptions options(std::size_t coalesce_at, std::size_t resync_below,
                           std::size_t max_frames, std::size_t max_bytes) {
  ViewerQueueOptions o;
  o.coalesce_at = coalesce_at;
  o.resync_below = resync_below;
  o.max_queue_frames = max_frames;
  o.max_queue_bytes = max_bytes;
  return o;
}

// The process-wide metrics the queue moves, read before and after.
struct MetricsSeen {
  std::uint64_t coalesced = metrics::server().messages_coalesced.value();
  std::uint64_t messages_shed = metrics::server().messages_shed.value();
  std::uint64_t viewers_shed = metrics::server().viewers_shed.value();
  std::int64_t queue_bytes = metrics::server().viewer_queue_bytes.value();

  std::uint64_t coalesced_since() const {
    return metrics::server().messages_coalesced.value() - coalesced;
  }
  std::uint64_t messages_shed_since() const {
    return metrics::server().messages_shed.value() - messages_shed;
  }
  std::uint64_t viewers_shed_since() const {
    return metrics::server().viewers_shed.value() - viewers_shed;
  }
  std::int64_t queue_bytes_since() const {
    return metrics::server().viewer_queue_bytes.value() - queue_bytes;
  }
};

void expect_depth(const ViewerQueue& q, std::size_t frames, std::size_t bytes) {
  EXPECT_EQ(q.depth().frames, frames);
  EXPECT_EQ(q.depth().bytes, bytes);
}

TEST(ViewerQueue, DeltasWaitBelowCoalesceAtAndAreCoalescedFromIt) {
  const MetricsSeen seen;
  ViewerQueue q(options(3, 1, 100, 10'000), LiveFormat::json);
  // Queue sizes 0, 1, 2 are below coalesce_at = 3: queued.
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 10)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 10)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::delta, "s/b", 10)), Decision::queued);
  expect_depth(q, 3, 30);
  EXPECT_EQ(seen.coalesced_since(), 0u);
  // At 3 queued: dropped, and the subscription marked for a snapshot.
  EXPECT_EQ(q.push(frame(Kind::delta, "s/b", 10)), Decision::coalesced);
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 10)), Decision::coalesced);
  expect_depth(q, 3, 30);
  EXPECT_EQ(seen.coalesced_since(), 2u);
  EXPECT_EQ(seen.queue_bytes_since(), 30);
}

TEST(ViewerQueue, AppendsRepliesAndSnapshotsAreNeverCoalesced) {
  const MetricsSeen seen;
  ViewerQueue q(options(2, 0, 100, 10'000), LiveFormat::json);
  EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 5)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 5)), Decision::queued);
  // 2 queued = coalesce_at: only deltas are dropped.
  EXPECT_EQ(q.push(frame(Kind::append, "map/*", 5)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::reply, "", 5)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::snapshot, "runner/1", 5)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 5)), Decision::coalesced);
  expect_depth(q, 5, 25);
  EXPECT_EQ(seen.coalesced_since(), 1u);
}

TEST(ViewerQueue, SnapshotsAreAskedAgainOnceDrainedToResyncBelow) {
  ViewerQueue q(options(4, 2, 100, 10'000), LiveFormat::json);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 1)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::delta, "s/b", 1)), Decision::coalesced);
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::coalesced);
  EXPECT_TRUE(q.take_resync().empty());  // 4 queued > 2
  q.pop();
  EXPECT_TRUE(q.take_resync().empty());  // 3 > 2
  q.pop();
  // 2 queued: not more than resync_below. Each key once, in key order.
  EXPECT_EQ(q.take_resync(), (std::vector<std::string>{"s/a", "s/b"}));
  EXPECT_TRUE(q.take_resync().empty());
  q.pop();
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.take_resync().empty());
}

TEST(ViewerQueue, DeltasStayDroppedUntilTheSnapshotArrives) {
  const MetricsSeen seen;
  ViewerQueue q(options(1, 0, 100, 10'000), LiveFormat::json);
  ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 1)), Decision::queued);
  ASSERT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::coalesced);
  ASSERT_EQ(q.push(frame(Kind::delta, "s/b", 1)), Decision::coalesced);
  q.pop();
  EXPECT_EQ(q.take_resync(), (std::vector<std::string>{"s/a", "s/b"}));
  // The queue is empty, below coalesce_at, yet a delta for a subscription waiting for its
  // snapshot does not apply to what the viewer holds: still dropped, and not asked again.
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::coalesced);
  EXPECT_TRUE(q.take_resync().empty());
  EXPECT_EQ(seen.coalesced_since(), 3u);
  // Its snapshot is queued, and the deltas after it are queued again.
  EXPECT_EQ(q.push(frame(Kind::snapshot, "s/a", 1)), Decision::queued);
  q.pop();
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::queued);
  q.pop();
  // The other subscription still waits for its own.
  EXPECT_EQ(q.push(frame(Kind::delta, "s/b", 1)), Decision::coalesced);
  EXPECT_EQ(seen.coalesced_since(), 4u);
  EXPECT_TRUE(q.empty());
}

TEST(ViewerQueue, AnUnsubscribedKeyNoLongerWaitsForASnapshot) {
  ViewerQueue q(options(1, 0, 100, 10'000), LiveFormat::json);
  ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 1)), Decision::queued);
  ASSERT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::coalesced);
  q.pop();
  q.forget("s/a");
  // Subscribed again: its first snapshot comes from the hub, and deltas pass.
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::queued);
}

TEST(ViewerQueue, TooManyFramesShedTheViewer) {
  const MetricsSeen seen;
  {
    ViewerQueue q(options(100, 8, 3, 10'000), LiveFormat::json);
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 7)), Decision::queued);
    EXPECT_EQ(seen.queue_bytes_since(), 21);
    // 3 queued = max_queue_frames: the next frame sheds the viewer, whatever its kind.
    EXPECT_EQ(q.push(frame(Kind::reply, "", 1)), Decision::shed);
    EXPECT_TRUE(q.shed());
    EXPECT_TRUE(q.empty());
    expect_depth(q, 0, 0);
    EXPECT_EQ(seen.viewers_shed_since(), 1u);
    EXPECT_EQ(seen.messages_shed_since(), 3u);  // the queued ones; the refused frame is not
    EXPECT_EQ(seen.queue_bytes_since(), 0);
    // Shed once: later frames are refused and not counted again.
    EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 7)), Decision::shed);
    EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 7)), Decision::shed);
    EXPECT_EQ(seen.viewers_shed_since(), 1u);
    EXPECT_EQ(seen.messages_shed_since(), 3u);
    EXPECT_EQ(seen.coalesced_since(), 0u);
    EXPECT_TRUE(q.take_resync().empty());
  }
  EXPECT_EQ(seen.queue_bytes_since(), 0);
}

TEST(ViewerQueue, ADeltaBelowCoalesceAtStillShedsAFullQueue) {
  const MetricsSeen seen;
  ViewerQueue q(options(10, 8, 2, 10'000), LiveFormat::json);
  ASSERT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::queued);
  ASSERT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::queued);
  // 2 < coalesce_at = 10: not coalesced, so counted against max_queue_frames = 2.
  EXPECT_EQ(q.push(frame(Kind::delta, "s/a", 1)), Decision::shed);
  EXPECT_EQ(seen.messages_shed_since(), 2u);
  EXPECT_EQ(seen.coalesced_since(), 0u);
}

TEST(ViewerQueue, TooManyBytesShedTheViewer) {
  const MetricsSeen seen;
  ViewerQueue q(options(100, 8, 100, 100), LiveFormat::json);
  EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 60)), Decision::queued);
  EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 40)), Decision::queued);  // 100: not over
  expect_depth(q, 2, 100);
  EXPECT_EQ(q.push(frame(Kind::snapshot, "runner/1", 1)), Decision::shed);  // 101 > 100
  expect_depth(q, 0, 0);
  EXPECT_EQ(seen.viewers_shed_since(), 1u);
  EXPECT_EQ(seen.messages_shed_since(), 2u);
  EXPECT_EQ(seen.queue_bytes_since(), 0);
}

TEST(ViewerQueue, AFrameLargerThanTheLimitGoesToAViewerThatHasCaughtUp) {
  ViewerQueue q(options(100, 8, 100, 100), LiveFormat::json);
  EXPECT_EQ(q.push(frame(Kind::snapshot, "s/a", 500)), Decision::queued);
  expect_depth(q, 1, 500);
  // Behind it, anything is too much.
  EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 1)), Decision::shed);
}

TEST(ViewerQueue, DepthAndTheGaugeFollowPushesAndPopsInTheViewersFormat) {
  const MetricsSeen seen;
  {
    ViewerQueue q(options(100, 8, 100, 10'000), LiveFormat::protobuf);
    const auto first = frame(Kind::append, "passings/*", 10);  // 20 bytes in Protobuf
    ASSERT_EQ(q.push(first), Decision::queued);
    ASSERT_EQ(q.push(frame(Kind::snapshot, "runner/1", 20)), Decision::queued);
    ASSERT_EQ(q.push(frame(Kind::reply, "", 30)), Decision::queued);
    expect_depth(q, 3, 120);
    EXPECT_EQ(seen.queue_bytes_since(), 120);
    // The writer takes the oldest; it counts until popped.
    EXPECT_EQ(q.front(), first);
    expect_depth(q, 3, 120);
    q.pop();
    expect_depth(q, 2, 100);
    EXPECT_EQ(seen.queue_bytes_since(), 100);
    EXPECT_EQ(q.front()->kind, Kind::snapshot);
    q.pop();
    expect_depth(q, 1, 60);
    EXPECT_EQ(seen.queue_bytes_since(), 60);
  }
  // A viewer that goes away with frames queued takes its bytes off the gauge.
  EXPECT_EQ(seen.queue_bytes_since(), 0);
}

TEST(ViewerQueue, AViewerWhoseOldestFrameWaitedPastTheStallTimeoutIsShed) {
  const MetricsSeen seen;
  ViewerQueueOptions o = options(100, 8, 1000, 1'000'000);
  o.stall_timeout_ms = 5000;
  ViewerQueue q(o, LiveFormat::json);
  // Queued at 1,000 ms and 3,000 ms (steady clock); little is queued.
  ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 10), 1000), Decision::queued);
  ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 10), 3000), Decision::queued);
  // At 6,000 ms the oldest has waited exactly 5 s: not over.
  EXPECT_FALSE(q.check_stalled(6000));
  ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 10), 6000), Decision::queued);
  // Written meanwhile: the oldest is now the one from 3,000 ms.
  q.pop();
  EXPECT_FALSE(q.check_stalled(8000));
  // A frame arriving at 8,001 ms finds the oldest 5,001 ms old: shed, whatever its size.
  EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 10), 8001), Decision::shed);
  EXPECT_TRUE(q.shed());
  EXPECT_NE(q.shed_reason().find("has waited 5 s"), std::string::npos) << q.shed_reason();
  EXPECT_NE(q.shed_reason().find("the oldest of 2 messages (20 bytes)"), std::string::npos)
      << q.shed_reason();
  EXPECT_EQ(seen.viewers_shed_since(), 1u);
  EXPECT_EQ(seen.messages_shed_since(), 2u);
}

TEST(ViewerQueue, TheTimerFindsAStallWhenNoFrameArrives) {
  ViewerQueueOptions o = options(100, 8, 1000, 1'000'000);
  o.stall_timeout_ms = 1000;
  ViewerQueue q(o, LiveFormat::json);
  EXPECT_FALSE(q.check_stalled(1'000'000));  // empty: nothing waits
  ASSERT_EQ(q.push(frame(Kind::snapshot, "map", 10), 100), Decision::queued);
  EXPECT_FALSE(q.check_stalled(1100));
  EXPECT_TRUE(q.check_stalled(1101));
  EXPECT_TRUE(q.shed());
  EXPECT_FALSE(q.check_stalled(5000));  // counted once
}

TEST(ViewerQueue, ALargeFrameGoingOutSlowlyIsNotAStall) {
  ViewerQueueOptions o = options(100, 8, 1000, 100'000'000);
  o.stall_timeout_ms = 5000;
  ViewerQueue q(o, LiveFormat::json);
  // A 4 MB snapshot queued at 0 ms, on its way in parts for 8 s.
  ASSERT_EQ(q.push(frame(Kind::snapshot, "map", 4'000'000), 0), Decision::queued);
  q.begin_write(1);
  for (std::int64_t t = 1000; t <= 8000; t += 1000) {
    q.note_progress(t);
    EXPECT_FALSE(q.check_stalled(t + 500)) << t;
    ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 10), t + 500), Decision::queued) << t;
  }
  q.finish_write();
  // Then nothing more goes out: 5 s after the last progress it is a stall.
  EXPECT_FALSE(q.check_stalled(13'000));
  EXPECT_TRUE(q.check_stalled(13'001));
}

TEST(ViewerQueue, FramesBeingWrittenStayUntilTheWriteCompletesEvenWhenShed) {
  const MetricsSeen seen;
  {
    ViewerQueue q(options(100, 8, 4, 10'000), LiveFormat::json);
    for (int i = 0; i < 4; ++i)
      ASSERT_EQ(q.push(frame(Kind::append, "passings/*", 10)), Decision::queued);
    // A write takes the first three together.
    q.begin_write(3);
    EXPECT_EQ(q.writing(), 3u);
    EXPECT_EQ(&q.at(0), q.front().get());
    // The fifth frame sheds the viewer: the one not being written is dropped and counted, the
    // three in the write stay (their bytes are on their way).
    EXPECT_EQ(q.push(frame(Kind::append, "passings/*", 10)), Decision::shed);
    EXPECT_EQ(seen.messages_shed_since(), 1u);
    expect_depth(q, 3, 30);
    q.finish_write();
    expect_depth(q, 0, 0);
    EXPECT_EQ(q.writing(), 0u);
  }
  EXPECT_EQ(seen.queue_bytes_since(), 0);
}

}  // namespace
}  // namespace splitstream
