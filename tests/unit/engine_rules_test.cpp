// The timing rules, each with a hand-computed expectation.
#include <gtest/gtest.h>

#include "engine/race_engine.hpp"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

TEST(EngineRules, FirstReadCountsAwayFromTheStartLastReadAtTheStart) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  // Standing on the start mat from 30 s before the gun; reads every 4 s (dedup 5 s).
  for (TimeMs t = kGun - 30 * kSec; t <= kGun + 2 * kSec; t += 4 * kSec)
    h.read("start", "c1", t);
  const TimeMs at5 = kGun + 25 * kMin;
  h.read("k5", "c1", at5 + 1200);
  h.read("k5", "c1", at5);
  h.read("k5", "c1", at5 + 3000);
  // Last of the chained start reads: -30, -26, ..., +2 s.
  EXPECT_EQ(h.split("1", 0), kGun + 2 * kSec);
  EXPECT_EQ(h.split("1", 1), at5);
  EXPECT_EQ(h.engine().chip_time_at(h.runner("1"), 1), 25 * kMin - 2 * kSec);
  EXPECT_EQ(h.engine().gun_time_at(h.runner("1"), 1), 25 * kMin);
  EXPECT_EQ(h.engine().status(h.runner("1")), RunnerStatus::running);
}

TEST(EngineRules, ATimingPointCanBeSetToCountItsLastRead) {
  // A finish chute where runners stop on the mat: the timing point counts the last read.
  EventBuilder b;
  b.timing_point("start").timing_point("chute", 5000);
  b.race("r", {{"start", "start", 0}, {"finish", "chute", 5000}});
  Event e = b.runner("1", "c1", "r").build();
  e.timing_points[1].read_rule = ReadRule::last;
  e.races[0].splits[1].read_rule = ReadRule::last;
  EngineHarness h(std::move(e));
  h.read("start", "c1", kGun);
  h.read("chute", "c1", kGun + 20 * kMin);
  h.read("chute", "c1", kGun + 20 * kMin + 4 * kSec);
  EXPECT_EQ(h.split("1", 1), kGun + 20 * kMin + 4 * kSec);
}

TEST(EngineRules, ReadsInsideACrossingAreDuplicates) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  const TimeMs at5 = kGun + 25 * kMin;
  EXPECT_EQ(h.read("k5", "c1", at5).outcome, ReadOutcome::applied);
  EXPECT_EQ(h.read("k5", "c1", at5).outcome, ReadOutcome::duplicate);       // a resend
  EXPECT_EQ(h.read("k5", "c1", at5 + 2000).outcome, ReadOutcome::applied);  // extends the crossing
  EXPECT_EQ(h.read("k5", "c1", at5 + 1000).outcome, ReadOutcome::duplicate);  // inside it
  EXPECT_EQ(h.engine().counters().duplicates, 2u);
  EXPECT_EQ(h.engine().crossings(h.runner("1")).size(), 1u);
}

TEST(EngineRules, DedupChainsReadsCloserThanTheDeadTime) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  const TimeMs at5 = kGun + 25 * kMin;
  // 0, 5, 10 s: each within 5 s of the previous, so one crossing; 16 s is a new one.
  h.read("k5", "c1", at5 + 10 * kSec);
  h.read("k5", "c1", at5);
  h.read("k5", "c1", at5 + 16 * kSec);
  h.read("k5", "c1", at5 + 5 * kSec);  // bridges 0 and 10 into one crossing
  const auto crossings = h.engine().crossings(h.runner("1"));
  ASSERT_EQ(crossings.size(), 2u);
  EXPECT_EQ(crossings[0].first, at5);
  EXPECT_EQ(crossings[0].last, at5 + 10 * kSec);
  EXPECT_EQ(crossings[1].first, at5 + 16 * kSec);
  // The 5 km split keeps the first crossing; the second one is a re-crossing, ignored.
  EXPECT_EQ(h.split("1", 1), at5);
}

TEST(EngineRules, MainAndBackupLinesMergeAndTheEarliestReadWins) {
  EventBuilder b = ten_k();
  b.runner("1", "c1", "10k").runner("2", "c2", "10k");
  EngineHarness h(b.build());
  const TimeMs at5 = kGun + 25 * kMin;
  // Backup line reads 300 ms before main; a later main read must not overwrite it.
  h.read("k5", "c1", at5 + 400);  // main
  h.read("k5", "c1", at5 + 100);  // backup
  h.read("k5", "c1", at5 + 900);  // main again
  EXPECT_EQ(h.split("1", 1), at5 + 100);
  // Main missed runner 2 entirely; the backup line alone gives the split.
  h.read("k5", "c2", at5 + 7 * kSec);
  EXPECT_EQ(h.split("2", 1), at5 + 7 * kSec);
}

TEST(EngineRules, WarmUpCrossingBeforeTheGunDoesNotCountAsALap) {
  EngineHarness h(two_laps().runner("1", "c1", "laps").build());
  // Crossed the stadium mat warming up 20 min before the gun, then started 30 s after it.
  h.read("stadium", "c1", kGun - 20 * kMin);
  h.read("stadium", "c1", kGun + 30 * kSec);
  // 20 min 30 s from the warm-up would allow 5 km at 10 m/s, but not 8.3 min after the gun.
  EXPECT_EQ(h.split("1", 0), kGun + 30 * kSec);
  EXPECT_EQ(h.split("1", 2), kNoTime);
  EXPECT_TRUE(h.engine().splits(h.runner("1")).flags.empty());
}

TEST(EngineRules, LapCourseAssignsOneMatToSuccessiveSplits) {
  EngineHarness h(two_laps().runner("1", "c1", "laps").build());
  h.read("stadium", "c1", kGun + 10 * kSec);
  h.read("mid", "c1", kGun + 12 * kMin);
  h.read("stadium", "c1", kGun + 24 * kMin);
  h.read("mid", "c1", kGun + 36 * kMin);
  h.read("stadium", "c1", kGun + 48 * kMin);
  EXPECT_EQ(h.split("1", 0), kGun + 10 * kSec);
  EXPECT_EQ(h.split("1", 1), kGun + 12 * kMin);
  EXPECT_EQ(h.split("1", 2), kGun + 24 * kMin);
  EXPECT_EQ(h.split("1", 3), kGun + 36 * kMin);
  EXPECT_EQ(h.split("1", 4), kGun + 48 * kMin);
  EXPECT_EQ(h.engine().status(h.runner("1")), RunnerStatus::finished);
}

TEST(EngineRules, LapCourseWithMissedMidMatsStillCountsLaps) {
  EngineHarness h(two_laps().runner("1", "c1", "laps").build());
  // Only the stadium saw the runner: start, lap 1, finish.
  h.read("stadium", "c1", kGun + 10 * kSec);
  h.read("stadium", "c1", kGun + 24 * kMin);
  h.read("stadium", "c1", kGun + 48 * kMin);
  EXPECT_EQ(h.split("1", 2), kGun + 24 * kMin);
  EXPECT_EQ(h.split("1", 4), kGun + 48 * kMin);
  EXPECT_EQ(h.split("1", 1), kNoTime);
  EXPECT_EQ(h.split("1", 3), kNoTime);
  // Single missed mats are not flagged.
  EXPECT_TRUE(h.engine().splits(h.runner("1")).flags.empty());
}

TEST(EngineRules, LapCourseRecrossingSoonAfterALapIsIgnored) {
  EngineHarness h(two_laps().runner("1", "c1", "laps").build());
  h.read("stadium", "c1", kGun + 10 * kSec);
  h.read("stadium", "c1", kGun + 24 * kMin);
  // 30 s later (beyond the 10 s dedup): 2.5 km more in 30 s is impossible, so not l2 or finish.
  h.read("stadium", "c1", kGun + 24 * kMin + 30 * kSec);
  EXPECT_EQ(h.split("1", 2), kGun + 24 * kMin);
  EXPECT_EQ(h.split("1", 4), kNoTime);
  EXPECT_TRUE(h.engine().splits(h.runner("1")).flags.empty());
}

TEST(EngineRules, ImplausibleSplitIsFlaggedAndNotRanked) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").runner("2", "c2", "10k").build());
  h.read("start", "c1", kGun);
  h.read("start", "c2", kGun);
  h.read("k5", "c1", kGun + 20 * kMin);
  // Runner 2 "reaches" 5 km 4 min after starting: 5000 m / 240 s = 20.83 m/s.
  h.read("k5", "c2", kGun + 4 * kMin);
  const SplitAssignment& a = h.engine().splits(h.runner("2"));
  EXPECT_EQ(a.times[1], kNoTime);
  EXPECT_EQ(a.furthest, 0);
  ASSERT_EQ(a.flags.size(), 1u);
  EXPECT_EQ(a.flags[0].kind, FlagKind::implausible_split);
  EXPECT_EQ(a.flags[0].split_from, 1);
  EXPECT_EQ(a.flags[0].time, kGun + 4 * kMin);
  EXPECT_NEAR(a.flags[0].speed_mps, 5000.0 / 240.0, 1e-3);
  EXPECT_EQ(h.engine().split_rank(h.runner("2"), 1), 0u);
  EXPECT_EQ(h.engine().rank(h.runner("1")), 1u);
  EXPECT_EQ(h.engine().rank(h.runner("2")), 2u);  // ranked by the start only
}

TEST(EngineRules, TwoMissedMatsInARowAreFlaggedAndRankedByTheFurthestSplit) {
  EventBuilder b;
  b.timing_point("start").timing_point("a").timing_point("b").timing_point("c").timing_point(
      "finish");
  b.race("r", {{"start", "start", 0},
               {"a", "a", 2000},
               {"b", "b", 4000},
               {"c", "c", 6000},
               {"finish", "finish", 8000}});
  b.runner("1", "c1", "r").runner("2", "c2", "r");
  EngineHarness h(b.build());
  h.read("start", "c1", kGun);
  h.read("a", "c1", kGun + 8 * kMin);
  h.read("finish", "c1", kGun + 32 * kMin);  // missed b and c
  h.read("start", "c2", kGun);
  h.read("c", "c2", kGun + 23 * kMin);  // missed a and b; single miss of finish is not a run
  const auto& f1 = h.engine().splits(h.runner("1")).flags;
  ASSERT_EQ(f1.size(), 1u);
  EXPECT_EQ(f1[0].kind, FlagKind::missed_mats);
  EXPECT_EQ(f1[0].split_from, 2);
  EXPECT_EQ(f1[0].split_to, 3);
  EXPECT_EQ(h.engine().status(h.runner("1")), RunnerStatus::finished);
  const auto& f2 = h.engine().splits(h.runner("2")).flags;
  ASSERT_EQ(f2.size(), 1u);
  EXPECT_EQ(f2[0].split_from, 1);
  EXPECT_EQ(f2[0].split_to, 2);
  // Runner 1 finished, runner 2 is at split c: finish ranks first despite the missing mats.
  EXPECT_EQ(h.engine().rank(h.runner("1")), 1u);
  EXPECT_EQ(h.engine().rank(h.runner("2")), 2u);
}

TEST(EngineRules, MissingStartFallsBackToGunForChipTime) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  h.read("k5", "c1", kGun + 25 * kMin);
  EXPECT_EQ(h.split("1", 0), kNoTime);
  EXPECT_EQ(h.engine().chip_time_at(h.runner("1"), 1), 25 * kMin);
  EXPECT_TRUE(h.engine().splits(h.runner("1")).flags.empty());  // one missed mat
}

TEST(EngineRules, ReadsBeforeTheGunAwayFromTheStartAreIgnoredAndCounted) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  EXPECT_EQ(h.read("k5", "c1", kGun - 10 * kMin).outcome, ReadOutcome::before_gun);
  EXPECT_EQ(h.read("finish", "c1", kGun - 1).outcome, ReadOutcome::before_gun);
  EXPECT_EQ(h.read("start", "c1", kGun - 1).outcome, ReadOutcome::applied);
  EXPECT_EQ(h.engine().counters().before_gun, 2u);
  EXPECT_EQ(h.split("1", 1), kNoTime);
  EXPECT_EQ(h.split("1", 0), kGun - 1);
}

TEST(EngineRules, WaveGunAppliesToGunTimesAndTheBeforeGunRule) {
  EventBuilder b = ten_k();
  b.wave("A", kGun).wave("B", kGun + 10 * kMin);
  b.runner("1", "c1", "10k", Gender::male, "", "A").runner("2", "c2", "10k", Gender::male, "", "B");
  EngineHarness h(b.build());
  h.read("start", "c2", kGun + 10 * kMin + 20 * kSec);
  h.read("k5", "c2", kGun + 35 * kMin);
  EXPECT_EQ(h.engine().gun_time_at(h.runner("2"), 1), 25 * kMin);
  // 5 min after wave A's gun but before B's: ignored for a wave B runner.
  EXPECT_EQ(h.read("k5", "c2", kGun + 5 * kMin).outcome, ReadOutcome::before_gun);
}

TEST(EngineRules, ReadAtAMatNotOnTheRunnersCourseIsCounted) {
  EventBuilder b = ten_k();
  b.timing_point("elsewhere");
  b.runner("1", "c1", "10k");
  EngineHarness h(b.build());
  EXPECT_EQ(h.read("elsewhere", "c1", kGun + kMin).outcome, ReadOutcome::not_on_course);
  EXPECT_EQ(h.engine().counters().not_on_course, 1u);
}

TEST(EngineRules, UnknownChipsAreKeptListedAndAppliedWhenAssigned) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  EXPECT_EQ(h.read("start", "spare", kGun + 5 * kSec).outcome, ReadOutcome::unknown_chip);
  h.read("k5", "spare", kGun + 22 * kMin);
  h.read("k5", "spare", kGun + 22 * kMin + 500);
  auto unknown = h.engine().unknown_chips();
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].chip, "spare");
  EXPECT_EQ(unknown[0].reads, 3u);
  EXPECT_EQ(unknown[0].first_seen, kGun + 5 * kSec);
  EXPECT_EQ(unknown[0].last_seen, kGun + 22 * kMin + 500);
  EXPECT_EQ(unknown[0].timing_points.size(), 2u);

  EXPECT_TRUE(h.engine().assign_chip("spare", "nobody").has_value());
  EXPECT_TRUE(h.engine().assign_chip("c1", "1").has_value());  // already held
  EXPECT_FALSE(h.engine().assign_chip("spare", "1").has_value());
  EXPECT_TRUE(h.engine().unknown_chips().empty());
  EXPECT_EQ(h.split("1", 0), kGun + 5 * kSec);
  EXPECT_EQ(h.split("1", 1), kGun + 22 * kMin);
  EXPECT_EQ(h.engine().counters().unknown_chip, 0u);
  // Later reads of the chip go straight to the runner.
  EXPECT_EQ(h.read("finish", "spare", kGun + 45 * kMin).outcome, ReadOutcome::applied);
  EXPECT_EQ(h.engine().status(h.runner("1")), RunnerStatus::finished);
}

TEST(EngineRules, ALateBacklogGivesTheSameResultAsInOrderArrival) {
  EngineHarness in_order(ten_k().runner("1", "c1", "10k").runner("2", "c2", "10k").build());
  EngineHarness late(ten_k().runner("1", "c1", "10k").runner("2", "c2", "10k").build());
  struct R {
    const char* tp;
    const char* chip;
    TimeMs t;
  };
  const R reads[] = {{"start", "c1", kGun + 1000},
                     {"start", "c2", kGun + 3000},
                     {"k5", "c2", kGun + 20 * kMin},
                     {"k5", "c1", kGun + 21 * kMin},
                     {"finish", "c1", kGun + 41 * kMin},
                     {"finish", "c2", kGun + 42 * kMin},
                     {"finish", "c2", kGun + 42 * kMin + 800}};
  for (const R& r : reads)
    in_order.read(r.tp, r.chip, r.t);
  // The 5 km decoder was offline: its backlog arrives after the finish reads.
  for (const R& r : reads) {
    if (std::string(r.tp) != "k5") late.read(r.tp, r.chip, r.t);
  }
  for (const R& r : reads) {
    if (std::string(r.tp) == "k5") late.read(r.tp, r.chip, r.t);
  }
  for (const char* bib : {"1", "2"}) {
    EXPECT_EQ(in_order.engine().splits(in_order.runner(bib)),
              late.engine().splits(late.runner(bib)));
    EXPECT_EQ(in_order.engine().rank(in_order.runner(bib)), late.engine().rank(late.runner(bib)));
    EXPECT_EQ(in_order.engine().split_rank(in_order.runner(bib), 1),
              late.engine().split_rank(late.runner(bib), 1));
  }
  EXPECT_EQ(late.engine().split_rank(late.runner("2"), 1), 1u);
  EXPECT_EQ(late.engine().rank(late.runner("1")), 1u);
}

TEST(EngineRules, AppliedResultReportsChangedSplitsAndStandingMoves) {
  EngineHarness h(ten_k().runner("1", "c1", "10k").build());
  auto r = h.read("start", "c1", kGun + 1000);
  ASSERT_EQ(r.changed_splits.size(), 1u);
  EXPECT_EQ(r.changed_splits[0], 0);
  EXPECT_TRUE(r.standing_changed);
  r = h.read("start", "c1", kGun + 3000);  // the start moves later: last read
  ASSERT_EQ(r.changed_splits.size(), 1u);
  EXPECT_TRUE(r.standing_changed);         // its time at the furthest split went from 1 s to 3 s
  r = h.read("start", "c1", kGun + 2000);  // inside the crossing
  EXPECT_EQ(r.outcome, ReadOutcome::duplicate);
  EXPECT_TRUE(r.changed_splits.empty());
  EXPECT_FALSE(r.standing_changed);
  r = h.read("k5", "c1", kGun + 25 * kMin);
  ASSERT_EQ(r.changed_splits.size(), 1u);
  EXPECT_EQ(r.changed_splits[0], 1);
}

}  // namespace
}  // namespace splitstream::testing
