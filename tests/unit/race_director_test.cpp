// The race director's view of the engine (engine/race_director): small events built in code
// with hand-computed counts, ETAs and flags, and the property that the review queue and the
// overview do not depend on the order or duplication of the reads.
#include "engine/race_director.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "engine/corrections.hpp"
#include "model/event_loader.hpp"
#include "results/reads_file.hpp"
#include "support/engine_harness.hpp"
#include "synth/synthetic_race.hpp"

namespace splitstream::testing {
namespace {

constexpr int kPyongyang = 9 * 60;  // UTC+09:00: kGun is 08:00:00 local

// The 10 km race (start, 5k, finish) in two waves, 10 minutes apart, and one runner without a
// wave.
std::unique_ptr<EngineHarness> waves_race() {
  EventBuilder b = ten_k();
  b.wave("A", kGun).wave("B", kGun + 10 * kMin);
  b.runner("1", "c1", "10k", Gender::male, "", "A")
      .runner("2", "c2", "10k", Gender::male, "", "A")
      .runner("3", "c3", "10k", Gender::male, "", "B")
      .runner("4", "c4", "10k", Gender::male, "", "A")
      .runner("5", "c5", "10k", Gender::male, "", "B")
      .runner("6", "c6", "10k", Gender::male, "", "A")
      .runner("7", "c7", "10k");
  auto race = std::make_unique<EngineHarness>(b.build());
  race->read("start", "c1", kGun);
  race->read("k5", "c1", kGun + 17 * kMin);
  race->read("finish", "c1", kGun + 34 * kMin);  // finished
  race->read("start", "c2", kGun);
  race->read("k5", "c2", kGun + 20 * kMin);     // running
  race->read("start", "c3", kGun + 10 * kMin);  // running (wave B)
  // 4 and 5: never seen.
  race->read("start", "c6", kGun);
  EXPECT_FALSE(race->correct(status("6", OfficialStatus::dnf)).error);
  EXPECT_FALSE(race->correct(status("7", OfficialStatus::dsq)).error);  // never seen either
  return race;
}

StatusCounts counts(std::size_t entered, std::size_t started, std::size_t on_course,
                    std::size_t finished, std::size_t dnf, std::size_t dsq, std::size_t dns,
                    std::size_t not_yet_seen) {
  return {entered, started, on_course, finished, dnf, dsq, dns, not_yet_seen};
}

TEST(RaceDirector, OverviewCountsEachRunnerOnceInTheRaceAndInTheirWave) {
  const auto race = waves_race();
  // 35 minutes after the gun: wave A's 30 minutes are up (4 did not start), wave B's are not
  // (5 may still come).
  const auto overview = race_overview(race->engine(), kGun + 35 * kMin);
  ASSERT_EQ(overview.size(), 1u);
  EXPECT_EQ(overview[0].race, 0u);
  EXPECT_EQ(overview[0].gun, kGun);
  EXPECT_EQ(overview[0].counts, counts(7, 4, 2, 1, 1, 1, 1, 1));
  ASSERT_EQ(overview[0].waves.size(), 2u);
  EXPECT_EQ(overview[0].waves[0], (WaveOverview{0, kGun, counts(4, 3, 1, 1, 1, 0, 1, 0)}));
  EXPECT_EQ(overview[0].waves[1],
            (WaveOverview{1, kGun + 10 * kMin, counts(2, 1, 1, 0, 0, 0, 0, 1)}));
  // Wave B's 30 minutes end at 08:40: from then on 5 did not start.
  const auto at_40 = race_overview(race->engine(), kGun + 40 * kMin);
  EXPECT_EQ(at_40[0].waves[1].counts, counts(2, 1, 1, 0, 0, 0, 1, 0));
  const auto before = race_overview(race->engine(), kGun + 40 * kMin - 1);
  EXPECT_EQ(before[0].waves[1].counts, counts(2, 1, 1, 0, 0, 0, 0, 1));
  // Before every gun, nobody unseen is a DNS; with dns_after at 5 minutes, 4 is one at 08:05.
  EXPECT_EQ(race_overview(race->engine(), kGun - kMin)[0].counts.dns, 0u);
  DirectorOptions quick;
  quick.dns_after_ms = 5 * kMin;
  EXPECT_EQ(race_overview(race->engine(), kGun + 5 * kMin, quick)[0].counts.dns, 1u);
}

// Six runners on the 10 km: three still out at exact paces, one finished, one DNF, one never
// seen.
std::unique_ptr<EngineHarness> out_on_course() {
  auto race = std::make_unique<EngineHarness>(ten_k()
                                                  .runner("1", "c1", "10k")
                                                  .runner("2", "c2", "10k")
                                                  .runner("3", "c3", "10k")
                                                  .runner("4", "c4", "10k")
                                                  .runner("5", "c5", "10k")
                                                  .runner("6", "c6", "10k")
                                                  .build());
  race->read("start", "c1", kGun);
  race->read("k5", "c1", kGun + 1250 * kSec);  // 4 m/s: due at the finish at 2500 s
  race->read("start", "c2", kGun);             // the default 2.8 m/s: due at 5k at 1785.714 s
  race->read("start", "c3", kGun + 60 * kSec);
  race->read("k5", "c3", kGun + 1060 * kSec);  // 5 m/s: due at the finish at 2060 s
  race->read("start", "c4", kGun);
  race->read("k5", "c4", kGun + 900 * kSec);
  race->read("finish", "c4", kGun + 1800 * kSec);  // finished
  race->read("start", "c5", kGun);
  EXPECT_FALSE(race->correct(status("5", OfficialStatus::dnf)).error);
  // 6: never seen.
  return race;
}

TEST(RaceDirector, OverdueRunnersAreThoseNotSeenAMarginAfterTheirExpectedArrival) {
  const auto race = out_on_course();
  const TimeMs now = kGun + 3600 * kSec;
  const auto r = [&](const char* bib) { return race->runner(bib); };
  const auto overdue = overdue_runners(race->engine(), now, 300 * kSec);
  ASSERT_EQ(overdue.size(), 3u);
  // Most overdue first: 2 was due at 5k at 1785.714 s, 3 at the finish at 2060 s, 1 at 2500 s.
  EXPECT_EQ(overdue[0], (OverdueRunner{r("2"), 0, kGun, 1, kGun + 1'785'714, 1'814'286}));
  EXPECT_EQ(overdue[1],
            (OverdueRunner{r("3"), 1, kGun + 1060 * kSec, 2, kGun + 2060 * kSec, 1540 * kSec}));
  EXPECT_EQ(overdue[2],
            (OverdueRunner{r("1"), 1, kGun + 1250 * kSec, 2, kGun + 2500 * kSec, 1100 * kSec}));
  // A margin of exactly how late 1 is leaves 1 out: overdue means past expected + margin.
  const auto wider = overdue_runners(race->engine(), now, 1100 * kSec);
  ASSERT_EQ(wider.size(), 2u);
  EXPECT_EQ(wider[0].runner, r("2"));
  EXPECT_EQ(wider[1].runner, r("3"));
  EXPECT_EQ(overdue_runners(race->engine(), now, 1100 * kSec - 1).size(), 3u);
  // Early in the race nobody is overdue; another race's filter finds nobody.
  EXPECT_TRUE(overdue_runners(race->engine(), kGun + 1500 * kSec, 300 * kSec).empty());
  EXPECT_EQ(overdue_runners(race->engine(), now, 300 * kSec, 0).size(), 3u);
}

TEST(RaceDirector, SweepListsWhoIsStillOutBehindASplitLastFirst) {
  const auto race = out_on_course();
  const TimeMs now = kGun + 3600 * kSec;
  // Behind the finish: 2 is held 25 m short of 5k (5025 m to go at 2.8 m/s: 1794.642 s), 1 and
  // 3 are held 25 m short of the finish (6.25 s at 4 m/s, 5 s at 5 m/s).
  const SweepReport finish = sweep(race->engine(), 0, 2, now);
  EXPECT_EQ(finish.passed, 1u);
  ASSERT_EQ(finish.runners.size(), 3u);
  EXPECT_EQ(finish.runners[0], (SweepRunner{race->runner("2"), 0, kGun, now + 1'794'642}));
  EXPECT_EQ(finish.runners[1], (SweepRunner{race->runner("1"), 1, kGun + 1250 * kSec, now + 6250}));
  EXPECT_EQ(finish.runners[2], (SweepRunner{race->runner("3"), 1, kGun + 1060 * kSec, now + 5000}));
  const SweepReport k5 = sweep(race->engine(), 0, 1, now);
  EXPECT_EQ(k5.passed, 3u);
  ASSERT_EQ(k5.runners.size(), 1u);
  EXPECT_EQ(k5.runners[0], (SweepRunner{race->runner("2"), 0, kGun, now + 8928}));
  // Per split: the DNF runner passed the start and is out of the sweep; 6 is nowhere.
  EXPECT_EQ(sweep_counts(race->engine(), 0),
            (std::vector<SplitSweepCounts>{{5, 0}, {3, 1}, {1, 3}}));
}

TEST(RaceDirector, CutoffsCountLatePassingsAndWhoIsProjectedToMissPerWave) {
  EventBuilder b = ten_k();
  b.wave("A", kGun).wave("B", kGun + 600 * kSec);
  b.runner("1", "c1", "10k", Gender::male, "", "A")
      .runner("2", "c2", "10k", Gender::male, "", "A")
      .runner("3", "c3", "10k", Gender::male, "", "A")
      .runner("4", "c4", "10k", Gender::male, "", "B")
      .runner("5", "c5", "10k")
      .runner("6", "c6", "10k");
  Event event = b.build();
  event.races[0].splits[1].cutoff = 1500 * kSec;  // 0:25:00 at 5k
  event.races[0].splits[2].cutoff = 2700 * kSec;  // 0:45:00 at the finish
  EngineHarness race(std::move(event));
  race.read("start", "c1", kGun);
  race.read("k5", "c1", kGun + 1250 * kSec);
  race.read("finish", "c1", kGun + 2800 * kSec);  // late at the finish
  race.read("start", "c2", kGun);
  race.read("k5", "c2", kGun + 1600 * kSec);  // late at 5k; 3.125 m/s
  race.read("start", "c3", kGun);             // start only: 2.8 m/s
  race.read("start", "c4", kGun + 600 * kSec);
  race.read("k5", "c4", kGun + 1600 * kSec);  // wave B: 1000 s after its gun, 5 m/s
  race.read("start", "c6", kGun);
  race.read("k5", "c6", kGun + 1400 * kSec);
  race.read("finish", "c6", kGun + 2650 * kSec);
  const TimeMs now = kGun + 3000 * kSec;
  const auto r = [&](const char* bib) { return race.runner(bib); };
  const auto report = cutoff_report(race.engine(), now);
  ASSERT_EQ(report.size(), 6u);
  // 5k, wave A (cut-off 08:25): 1 on time, 2 late, 3 (held short of 5k) will be at 3008.928 s.
  EXPECT_EQ(report[0],
            (CutoffReport{0, 1, 0, kGun + 1500 * kSec, 2, 1, {{r("3"), kGun + 3'008'928, 0}}}));
  // 5k, wave B (cut-off 08:35): 4 on time.
  EXPECT_EQ(report[1], (CutoffReport{0, 1, 1, kGun + 2100 * kSec, 1, 0, {}}));
  // 5k, the runners without a wave (the race's gun): 6 on time; 5 was never seen.
  EXPECT_EQ(report[2], (CutoffReport{0, 1, kNoIndex, kGun + 1500 * kSec, 1, 0, {}}));
  // Finish, wave A (cut-off 08:45): 1 late; 3 (5025 m to go at 2.8 m/s) and 2 (625 m at
  // 3.125 m/s) will miss it, the later first.
  EXPECT_EQ(report[3],
            (CutoffReport{0,
                          2,
                          0,
                          kGun + 2700 * kSec,
                          1,
                          1,
                          {{r("3"), now + 1'794'642, 0}, {r("2"), now + 200 * kSec, 1}}}));
  // Finish, wave B (cut-off 08:55): 4 is held 25 m short of it at 5 m/s, due at 3005 s.
  EXPECT_EQ(report[4], (CutoffReport{0, 2, 1, kGun + 3300 * kSec, 0, 0, {}}));
  EXPECT_EQ(report[5], (CutoffReport{0, 2, kNoIndex, kGun + 2700 * kSec, 1, 0, {}}));
  // Without cut-offs there is nothing to report.
  const EngineHarness plain(ten_k().runner("1", "c1", "10k").build());
  EXPECT_TRUE(cutoff_report(plain.engine(), now).empty());
}

// Five mats 2500 m apart.
EventBuilder five_mats() {
  EventBuilder b;
  b.timing_point("start").timing_point("a").timing_point("b").timing_point("c").timing_point(
      "finish");
  b.race("r", {{"start", "start", 0},
               {"a", "a", 2500},
               {"b", "b", 5000},
               {"c", "c", 7500},
               {"finish", "finish", 10000}});
  return b;
}

std::unique_ptr<EngineHarness> review_race() {
  auto race = std::make_unique<EngineHarness>(five_mats()
                                                  .runner("1", "c1", "r")
                                                  .runner("2", "c2", "r")
                                                  .runner("3", "c3", "r")
                                                  .runner("4", "c4", "r")
                                                  .runner("5", "c5", "r")
                                                  .build());
  // 1: seen at the start and the finish only: three mats missed in a row.
  race->read("start", "c1", kGun);
  race->read("finish", "c1", kGun + 2400 * kSec);
  // 2: at `a` 100 s after the gun (25 m/s: implausible), then at `b`; the start's last read
  // is its time.
  race->read("start", "c2", kGun - 2 * kSec);
  race->read("start", "c2", kGun);
  race->read("a", "c2", kGun + 100 * kSec);
  race->read("b", "c2", kGun + 1200 * kSec);
  // 3: a false finish read, voided.
  race->read("start", "c3", kGun);
  race->read("a", "c3", kGun + 600 * kSec);
  race->read("b", "c3", kGun + 1200 * kSec);
  race->read("finish", "c3", kGun + 1300 * kSec);
  EXPECT_FALSE(race->correct(void_at("3", "finish", kGun + 1290 * kSec, kGun + 1310 * kSec)).error);
  // 4: `a` entered by hand.
  race->read("start", "c4", kGun);
  race->read("b", "c4", kGun + 1200 * kSec);
  EXPECT_FALSE(race->correct(manual("4", "a", kGun + 600 * kSec)).error);
  // 5: nothing to review.
  race->read("start", "c5", kGun);
  race->read("a", "c5", kGun + 600 * kSec);
  return race;
}

TEST(RaceDirector, ReviewQueueHoldsFlaggedRunnersAndThoseWithVoidsOrReadsByHand) {
  const auto race = review_race();
  const auto queue = review_queue(race->engine());
  ASSERT_EQ(queue.size(), 4u);
  const TimingPointIndex start = 0, a = 1, b = 2, finish = 4;
  EXPECT_EQ(
      queue[0],
      (ReviewEntry{race->runner("1"),
                   {{start, kGun, "c1", false, 0}, {finish, kGun + 2400 * kSec, "c1", false, 4}},
                   {}}));
  EXPECT_EQ(queue[1], (ReviewEntry{race->runner("2"),
                                   {{start, kGun - 2 * kSec, "c2", false, std::nullopt},
                                    {start, kGun, "c2", false, 0},
                                    {a, kGun + 100 * kSec, "c2", false, std::nullopt},
                                    {b, kGun + 1200 * kSec, "c2", false, 2}},
                                   {}}));
  EXPECT_EQ(queue[2], (ReviewEntry{race->runner("3"),
                                   {{start, kGun, "c3", false, 0},
                                    {a, kGun + 600 * kSec, "c3", false, 1},
                                    {b, kGun + 1200 * kSec, "c3", false, 2},
                                    {finish, kGun + 1300 * kSec, "c3", true, std::nullopt}},
                                   {{finish, kGun + 1290 * kSec, kGun + 1310 * kSec}}}));
  EXPECT_EQ(queue[3], (ReviewEntry{race->runner("4"),
                                   {{start, kGun, "c4", false, 0},
                                    {a, kGun + 600 * kSec, "", false, 1},
                                    {b, kGun + 1200 * kSec, "c4", false, 2}},
                                   {}}));
}

TEST(RaceDirector, FlagsReadForPeople) {
  const auto race = review_race();
  const RaceEngine& engine = race->engine();
  const auto& missed = engine.splits(race->runner("1")).flags;
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(flag_text(engine, race->runner("1"), missed[0], kPyongyang),
            "no read at a to c (3 splits in a row)");
  EXPECT_EQ(flag_previous_split(engine, race->runner("1"), missed[0]), std::nullopt);
  const auto& implausible = engine.splits(race->runner("2")).flags;
  ASSERT_EQ(implausible.size(), 1u);
  EXPECT_EQ(flag_previous_split(engine, race->runner("2"), implausible[0]), 0u);
  EXPECT_EQ(flag_text(engine, race->runner("2"), implausible[0], kPyongyang),
            "a at 08:01:40 is too soon: 25.0 m/s from start (the race allows 10.0)");
  EXPECT_EQ(flag_text(engine, race->runner("2"), implausible[0], 0),
            "a at 23:01:40 is too soon: 25.0 m/s from start (the race allows 10.0)");
}

TEST(RaceDirector, UnknownChipsKeepEachOfTheirReadsOnceInTimeOrder) {
  EngineHarness race(ten_k().runner("1", "c1", "10k").build());
  race.read("k5", "x9", kGun + 500 * kSec);
  race.read("start", "x9", kGun + 10 * kSec);
  race.read("k5", "x9", kGun + 500 * kSec);  // the backup line's copy
  race.read("finish", "x1", kGun + 900 * kSec);
  race.read("start", "c1", kGun);
  const TimingPointIndex start = 0, k5 = 1, finish = 2;
  EXPECT_EQ(unknown_chip_reads(race.engine()),
            (std::vector<UnknownChipReads>{
                {"x1", {{finish, kGun + 900 * kSec}}, kGun + 900 * kSec, kGun + 900 * kSec},
                {"x9",
                 {{start, kGun + 10 * kSec}, {k5, kGun + 500 * kSec}},
                 kGun + 10 * kSec,
                 kGun + 500 * kSec}}));
  // The engine keeps what arrived, duplicates included; a held chip has none.
  EXPECT_EQ(race.engine().unknown_chip_reads("x9").size(), 3u);
  EXPECT_TRUE(race.engine().unknown_chip_reads("c1").empty());
  EXPECT_TRUE(race.engine().unknown_chip_reads("never").empty());
  // Assigned, the chip leaves the list with its reads.
  ASSERT_FALSE(race.engine().assign_chip("x9", "1"));
  ASSERT_EQ(unknown_chip_reads(race.engine()).size(), 1u);
  EXPECT_EQ(unknown_chip_reads(race.engine())[0].chip, "x1");
}

TEST(RaceDirector, CreditedReadsKeepEveryReadWithItsChipOrNoneByHand) {
  EngineHarness race(ten_k().runner("1", "c1", "10k").build());
  race.read("start", "c1", kGun);
  race.read("start", "c1", kGun);  // a duplicate is credited too
  EXPECT_FALSE(race.correct(manual("1", "k5", kGun + 20 * kMin)).error);
  const auto reads = race.engine().credited_reads(race.runner("1"));
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads.size(), race.engine().read_count(race.runner("1")));
  EXPECT_EQ(reads[0], (CreditedRead{kGun, 0, reads[0].chip}));
  EXPECT_EQ(race.engine().chip_name(reads[0].chip), "c1");
  EXPECT_EQ(reads[1], reads[0]);
  EXPECT_EQ(reads[2], (CreditedRead{kGun + 20 * kMin, 1, ChipIndex::kNobody}));
}

TEST(RaceDirector, TimingPointsExpectTheRunningRunnersWithASplitThereStillAhead) {
  EngineHarness race(two_laps()
                         .runner("A", "ca", "laps")
                         .runner("B", "cb", "laps")
                         .runner("C", "cc", "laps")
                         .runner("D", "cd", "laps")
                         .runner("E", "ce", "laps")
                         .build());
  race.read("stadium", "ca", kGun);  // start only: the stadium and mid still ahead
  race.read("stadium", "cb", kGun);
  race.read("mid", "cb", kGun + 600 * kSec);
  race.read("stadium", "cb", kGun + 1200 * kSec);
  race.read("mid", "cb", kGun + 1800 * kSec);  // l2-mid: only the finish ahead
  race.read("stadium", "cc", kGun);
  race.read("mid", "cc", kGun + 600 * kSec);
  race.read("stadium", "cc", kGun + 1200 * kSec);
  race.read("mid", "cc", kGun + 1800 * kSec);
  race.read("stadium", "cc", kGun + 2400 * kSec);  // finished
  race.read("stadium", "ce", kGun);
  EXPECT_FALSE(race.correct(status("E", OfficialStatus::dnf)).error);
  ASSERT_EQ(race.engine().status(race.runner("C")), RunnerStatus::finished);
  // Indexed by timing point: stadium, mid. A counts once at the stadium for lap1 and finish.
  EXPECT_EQ(runners_expected_at(race.engine(), kGun + 1900 * kSec),
            (std::vector<std::size_t>{2, 1}));
}

// The demo event's cut-offs (marathon lap2 3:00:00, lap3 4:30:00, finish 6:00:00; half finish
// 3:00:00 after each wave's gun) against its replay: who passed late is what the results CSV
// shows (`splitstream results`: the gun times over the cut-off), and at the last read the
// runners still out before a split are past its cut-off.
TEST(RaceDirector, TheDemoReplayHasLateRunnersAndRunnersProjectedToMissACutoff) {
  const LoadedEvent loaded = load_event_dir(SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025");
  ASSERT_TRUE(loaded.ok()) << loaded.problems.front().to_string();
  const Event& event = loaded.event;
  const auto text = read_text_file(SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025/reads.csv");
  ASSERT_TRUE(text);
  const ReadsFile reads = parse_reads_csv(*text, event);
  RaceEngine engine(event);
  apply_reads(engine, reads.reads);
  TimeMs last = 0;
  for (const FileRead& r : reads.reads)
    last = std::max(last, r.time);
  struct Expected {
    std::string race, split, wave;
    std::size_t passed, late;
    std::vector<std::string> missing;  // bibs, sorted
  };
  const std::vector<Expected> expected{
      {"marathon", "lap2", "", 139, 4, {"3"}},
      {"marathon", "lap3", "", 138, 4, {"3", "84"}},
      {"marathon", "finish", "", 138, 5, {"3", "84"}},
      {"half", "finish", "A", 54, 1, {"1023"}},
      {"half", "finish", "B", 51, 1, {"1076", "1096", "1104", "1107"}},
  };
  const auto report = cutoff_report(engine, last);
  ASSERT_EQ(report.size(), expected.size());
  for (std::size_t i = 0; i < report.size(); ++i) {
    const Race& race = event.races[report[i].race];
    EXPECT_EQ(race.id, expected[i].race);
    EXPECT_EQ(race.splits[report[i].split].id, expected[i].split);
    EXPECT_EQ(report[i].wave == kNoIndex ? "" : race.waves[report[i].wave].id, expected[i].wave);
    EXPECT_EQ(report[i].passed, expected[i].passed) << expected[i].split;
    EXPECT_EQ(report[i].passed_late, expected[i].late) << expected[i].split;
    std::vector<std::string> missing;
    for (const CutoffMiss& m : report[i].projected_to_miss)
      missing.push_back(event.participants[m.runner].bib);
    std::sort(missing.begin(), missing.end());
    EXPECT_EQ(missing, expected[i].missing) << expected[i].split;
  }
}

// Property: the same reads in any order, some twice, around the same corrections, give the same
// review queue, overview, unknown chips and cut-off report.
struct DirectorView {
  std::vector<ReviewEntry> review;
  std::vector<RaceOverview> overview;
  std::vector<UnknownChipReads> unknown;
  std::vector<CutoffReport> cutoffs;
  std::vector<std::size_t> expecting;

  friend bool operator==(const DirectorView&, const DirectorView&) = default;
};

DirectorView view_after(const Event& event, const std::vector<Step>& steps, TimeMs now) {
  RaceEngine engine(event);
  for (const Step& s : steps) {
    if (s.read) {
      apply_read(engine, *s.read);
    } else {
      EXPECT_FALSE(apply_correction(engine, *s.correction).error);
    }
  }
  return {review_queue(engine), race_overview(engine, now), unknown_chip_reads(engine),
          cutoff_report(engine, now), runners_expected_at(engine, now)};
}

TEST(RaceDirectorProperty, ReadsInAnyOrderAndDuplicatedGiveTheSameReviewQueueAndOverview) {
  Event event = make_synthetic_event(200, 6, 10000);
  Race& race = event.races[0];
  race.splits[2].cutoff = 20 * kMin;
  race.splits.back().cutoff = 50 * kMin;
  SynthOptions options;
  options.seed = 17;
  options.capture_rate = 0.55;  // per line: a fifth of the mats missed, some in a row
  options.unknown_chip_reads = 12;
  const auto reads = synthesize_reads(event, options);
  ASSERT_GT(reads.size(), 1000u);
  const Participant& a = event.participants[4];
  const Participant& b = event.participants[9];
  const std::string& finish = event.timing_points[race.finish().timing_point].id;
  const std::string& mid = event.timing_points[race.splits[2].timing_point].id;
  const std::vector<Correction> fixes{
      void_at(a.bib, finish, race.gun_time, race.gun_time + 5 * 3600 * kSec),
      manual(b.bib, mid, race.gun_time + 30 * kMin),
      status(event.participants[13].bib, OfficialStatus::dnf),
  };
  std::vector<Step> reference;
  for (const Correction& f : fixes)
    reference.push_back({std::nullopt, f});
  for (const FileRead& r : reads)
    reference.push_back({r, std::nullopt});
  // In the middle of the race: runners out on the course, some projected to miss.
  const TimeMs now = race.gun_time + 40 * kMin;
  const DirectorView expected = view_after(event, reference, now);
  // Sanity: there is something to compare.
  ASSERT_GT(expected.review.size(), 3u);
  ASSERT_FALSE(expected.unknown.empty());
  ASSERT_GT(expected.overview[0].counts.on_course, 0u);
  for (int seed = 1; seed <= 5; ++seed) {
    SplitMix64 rng(static_cast<std::uint64_t>(seed));
    const std::vector<Step> steps = interleave(reads, fixes, 0.3, rng);
    EXPECT_TRUE(view_after(event, steps, now) == expected) << "seed " << seed;
  }
}

}  // namespace
}  // namespace splitstream::testing
