// The simulator's replay plan: reads split per device and numbered as a device would, and the
// replay clock. Expectations computed by hand.
#include "sim/replay_plan.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

#include "support/engine_harness.hpp"

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
  for (std::uint32_t i = 0; i < e.devices.size(); ++i)
    e.device_by_id[e.devices[i].id] = i;
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

TEST(ReplayFaults, DuplicatesMissesAndDriftAreSeededAndRenumbered) {
  const Event e = two_mats();
  std::vector<FileRead> reads;
  for (int i = 0; i < 1000; ++i)
    reads.push_back(read(e, "k5", "c", 3'600'000 * (i % 2), "k5-main"));
  ReplayPlan plan = make_replay_plan(reads, e);
  FaultOptions faults;
  faults.duplicate_rate = 0.5;
  faults.miss_rate = 0.1;
  faults.clock_drift_ms_per_hour = {{"k5-main", 2000}};
  faults.seed = 42;
  ReplayPlan again = plan;
  apply_faults(plan, faults);
  apply_faults(again, faults);
  const DevicePlan& d = plan.devices[0];
  // 1,000 reads, 10% missed, half of the rest repeated: about 1,350.
  EXPECT_GT(d.reads.size(), 1250u);
  EXPECT_LT(d.reads.size(), 1450u);
  EXPECT_EQ(plan.total, d.reads.size());
  for (std::size_t i = 0; i < d.reads.size(); ++i)
    ASSERT_EQ(d.reads[i].seq, i + 1);
  // The same seed, the same faults.
  ASSERT_EQ(again.devices[0].reads.size(), d.reads.size());
  EXPECT_EQ(again.devices[0].reads.back().time, d.reads.back().time);
  // Drift: 2 s per hour from the first read: reads an hour in are 2,000 ms late; a duplicate
  // comes 50-800 ms after the read it repeats.
  for (std::size_t i = 0; i < d.reads.size(); ++i) {
    const TimeMs t = d.reads[i].time;
    const bool first_hour = t < 1'000'000;
    if (first_hour) {
      EXPECT_TRUE(t == 0 || (t >= 50 && t <= 800)) << t;
    } else {
      EXPECT_TRUE(t == 3'602'000 || (t >= 3'602'050 && t <= 3'602'800)) << t;
    }
  }
}

TEST(ReplayFaults, RatesOutOfRangeAndUnknownDevicesAreRefused) {
  const Event e = two_mats();
  ReplayPlan plan = make_replay_plan({read(e, "k5", "a", 1, "k5-main")}, e);
  FaultOptions bad_rate;
  bad_rate.miss_rate = 1.5;
  EXPECT_THROW(apply_faults(plan, bad_rate), std::invalid_argument);
  FaultOptions bad_device;
  bad_device.clock_drift_ms_per_hour = {{"k5-spare", 10}};
  EXPECT_THROW(apply_faults(plan, bad_device), std::invalid_argument);
}

TEST(ReplayPlan, WrittenBackAsAReadsFile) {
  const Event e = two_mats();
  const ReplayPlan plan =
      make_replay_plan({read(e, "k5", "a", 1'743'894'643'456, "k5-backup", Line::backup)}, e);
  const std::string csv = plan_to_csv(plan, e);
  const ReadsFile back = parse_reads_csv(csv, e);
  ASSERT_TRUE(back.problems.empty()) << back.problems.front().to_string() << "\n" << csv;
  ASSERT_EQ(back.reads.size(), 1u);
  EXPECT_EQ(back.reads[0].chip, "a");
  EXPECT_EQ(back.reads[0].time, 1'743'894'643'456);
  EXPECT_EQ(back.reads[0].device, "k5-backup");
  EXPECT_EQ(back.reads[0].line, Line::backup);
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
