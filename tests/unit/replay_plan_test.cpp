// The simulator's replay plan: reads split per device and numbered as a device would, and the
// replay clock. Expectations computed by hand.
#include "sim/replay_plan.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

#include "event_builder.hpp"

namespace splitstream::testing {
namespace {

Event two_mats() {
  EventBuilder b;
  b.timing_point("start").timing_point("k5");
  b.race("10k", {{"start", "start", 0}, {"5k", "k5", 5000}});
  Event e = b.build();
  e.devices.push_back({"start-main", *e.find_timing_point("start"), Line::main});
  e.devices.push_back({"k5-main", *e.find_timing_point("k5"), Line::main});
  e.devices.push_back({"k5-backup", *e.find_timing_point("k5"), Line::backup});
  return e;
}

FileRead read(const Event& e, const char* tp, const char* chip, TimeMs t, const char* device = "",
              Line line = Line::unspecified) {
  FileRead r;
  r.timing_point = *e.find_timing_point(tp);
  r.chip = chip;
  r.time = t;
  r.device = device;
  r.line = line;
  r.source_line = 2;
  return r;
}

TEST(ReplayPlan, SplitsReadsPerDeviceNumberedInFileOrder) {
  const Event e = two_mats();
  const ReplayPlan plan = make_replay_plan(
      {read(e, "k5", "a", 300, "k5-backup"), read(e, "start", "a", 100, "start-main"),
       read(e, "k5", "b", 200, "k5-backup"), read(e, "k5", "a", 290, "k5-main")},
      e);
  ASSERT_EQ(plan.devices.size(), 3u);  // event order
  EXPECT_EQ(plan.devices[0].device_id, "start-main");
  EXPECT_EQ(plan.devices[1].device_id, "k5-main");
  EXPECT_EQ(plan.devices[2].device_id, "k5-backup");
  ASSERT_EQ(plan.devices[2].reads.size(), 2u);
  // File order, not time order: a device sends what it read in the order it read it.
  EXPECT_EQ(plan.devices[2].reads[0].seq, 1u);
  EXPECT_EQ(plan.devices[2].reads[0].time, 300);
  EXPECT_EQ(plan.devices[2].reads[1].seq, 2u);
  EXPECT_EQ(plan.devices[2].reads[1].chip, "b");
  EXPECT_EQ(plan.devices[2].reads[1].timing_point_id, "k5");
  EXPECT_EQ(plan.total, 4u);
  EXPECT_EQ(plan.first, 100);
  EXPECT_EQ(plan.last, 300);
}

TEST(ReplayPlan, AReadWithoutADeviceGoesToItsMatsDeviceOnItsLine) {
  const Event e = two_mats();
  const ReplayPlan plan = make_replay_plan(
      {read(e, "k5", "a", 1, "", Line::backup), read(e, "k5", "b", 2), read(e, "start", "c", 3)},
      e);
  ASSERT_EQ(plan.devices.size(), 3u);
  EXPECT_EQ(plan.devices[0].device_id, "start-main");  // the mat's only device
  EXPECT_EQ(plan.devices[1].device_id, "k5-main");     // no line: the mat's first device
  EXPECT_EQ(plan.devices[1].reads[0].chip, "b");
  EXPECT_EQ(plan.devices[2].device_id, "k5-backup");  // its line
  EXPECT_EQ(plan.devices[2].reads[0].chip, "a");
}

TEST(ReplayPlan, AnUnknownDeviceNamesTheLine) {
  const Event e = two_mats();
  try {
    make_replay_plan({read(e, "k5", "a", 1, "k5-spare")}, e);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "line 2: device \"k5-spare\" is not in the event");
  }
}

TEST(ReplayClock, PlaysTheRaceAtItsSpeed) {
  const ReplayClock x60(1'000'000, 60);
  EXPECT_EQ(x60.race_time(0), 1'000'000);
  EXPECT_EQ(x60.race_time(1'000), 1'060'000);  // one second of wall time, a minute of race
  EXPECT_EQ(x60.wall_ms_for(1'060'000), 1'000);
  EXPECT_EQ(x60.wall_ms_for(1'000'001), 1);  // rounded up: never early
  EXPECT_EQ(x60.wall_ms_for(900'000), 0);
  const ReplayClock fast(1'000'000, 0);
  EXPECT_TRUE(fast.as_fast_as_possible());
  EXPECT_EQ(fast.race_time(0), std::numeric_limits<TimeMs>::max());
  EXPECT_EQ(fast.wall_ms_for(5'000'000), 0);
}

TEST(ReplayClock, ABatchIsWhatIsDueUpToTheLimit) {
  DevicePlan d{"k5-main", {}};
  for (TimeMs t : {10, 20, 30, 40, 50})
    d.reads.push_back({d.reads.size() + 1, t, "c", "k5", Line::main});
  EXPECT_EQ(due_until(d, 0, 5, 100), 0u);   // nothing due yet
  EXPECT_EQ(due_until(d, 0, 30, 100), 3u);  // 10, 20, 30
  EXPECT_EQ(due_until(d, 0, 30, 2), 2u);    // the batch limit
  EXPECT_EQ(due_until(d, 3, 1000, 100), 5u);
  EXPECT_EQ(due_until(d, 5, 1000, 100), 5u);  // all sent
}

}  // namespace
}  // namespace splitstream::testing
