// Officials' corrections: hand-computed expectations for each kind, the errors they name, and
// the property that corrections give the same state whatever order the reads arrive in
// around them.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

#include "engine/corrections.hpp"
#include "engine/race_engine.hpp"
#include "support/engine_harness.hpp"
#include "synth/synthetic_race.hpp"

namespace splitstream::testing {
namespace {

Event two_runners() {
  return ten_k().runner("1", "c1", "10k").runner("2", "c2", "10k").build();
}

TEST(Corrections, AVoidedFinishReadNoLongerCountsNorDoLaterReadsInItsWindow) {
  EngineHarness race(two_runners());
  race.read("start", "c1", kGun);
  race.read("k5", "c1", kGun + 20 * kMin);
  race.read("finish", "c1", kGun + 40 * kMin);  // a spectator walked the chip over the mat
  race.read("start", "c2", kGun);
  race.read("k5", "c2", kGun + 21 * kMin);
  EXPECT_EQ(race.order(), (std::vector<std::string>{"1", "2"}));

  const auto result = race.correct(void_at("1", "finish", kGun + 39 * kMin, kGun + 41 * kMin));
  ASSERT_FALSE(result.error) << *result.error;
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].runner, race.runner("1"));
  EXPECT_EQ(result.changes[0].changed_splits, (std::vector<std::uint16_t>{2}));
  EXPECT_TRUE(result.changes[0].standing_changed);
  EXPECT_EQ(race.split("1", 2), kNoTime);
  EXPECT_EQ(race.engine().status(race.runner("1")), RunnerStatus::running);
  // Both at 5 km now: 20:00 ahead of 21:00.
  EXPECT_EQ(race.order(), (std::vector<std::string>{"1", "2"}));
  // The backup line's copy of the same crossing arrives late: still void.
  EXPECT_EQ(race.read("finish", "c1", kGun + 40 * kMin + 300).outcome, ReadOutcome::voided);
  EXPECT_EQ(race.split("1", 2), kNoTime);
  // The real finish, after the window, counts.
  race.read("finish", "c1", kGun + 44 * kMin);
  EXPECT_EQ(race.split("1", 2), kGun + 44 * kMin);
  EXPECT_EQ(race.engine().status(race.runner("1")), RunnerStatus::finished);
}

TEST(Corrections, RestoringAVoidBringsItsReadsBack) {
  EngineHarness race(two_runners());
  race.read("start", "c1", kGun);
  race.read("finish", "c1", kGun + 40 * kMin);
  race.correct(void_at("1", "finish", kGun + 39 * kMin, kGun + 41 * kMin));
  race.read("finish", "c1", kGun + 40 * kMin + 300);  // voided on arrival, but kept
  EXPECT_EQ(race.split("1", 2), kNoTime);
  // Only exactly the window voided can be taken back.
  const auto wrong = race.correct(restore_at("1", "finish", kGun + 39 * kMin, kGun + 42 * kMin));
  ASSERT_TRUE(wrong.error);
  EXPECT_NE(wrong.error->find("no void of exactly that window"), std::string::npos);
  const auto result = race.correct(restore_at("1", "finish", kGun + 39 * kMin, kGun + 41 * kMin));
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_EQ(race.split("1", 2), kGun + 40 * kMin);  // the first of the two reads
  EXPECT_TRUE(race.engine().voids(race.runner("1")).empty());
}

TEST(Corrections, AManualReadFillsAMissedFinishAndStaysWithTheRunner) {
  EngineHarness race(two_runners());
  race.read("start", "c1", kGun + 10 * kSec);
  race.read("k5", "c1", kGun + 20 * kMin);
  const auto result = race.correct(manual("1", "finish", kGun + 41 * kMin));
  ASSERT_FALSE(result.error) << *result.error;
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].changed_splits, (std::vector<std::uint16_t>{2}));
  EXPECT_EQ(race.engine().status(race.runner("1")), RunnerStatus::finished);
  EXPECT_EQ(race.engine().gun_time_at(race.runner("1"), 2), 41 * kMin);
  EXPECT_EQ(race.engine().chip_time_at(race.runner("1"), 2), 41 * kMin - 10 * kSec);
  // The chip goes to another bib; the hand-entered finish stays with bib 1.
  race.correct(move("c1", "2"));
  EXPECT_EQ(race.split("1", 0), kNoTime);
  EXPECT_EQ(race.split("1", 2), kGun + 41 * kMin);
  EXPECT_EQ(race.split("2", 1), kGun + 20 * kMin);
}

TEST(Corrections, AMovedChipTakesItsReadsAndLaterReadsToTheNewBib) {
  // Runner 3 ran with runner 2's chip: every c2 read is runner 3's.
  EngineHarness race(
      ten_k().runner("1", "c1", "10k").runner("2", "c2", "10k").runner("3", "c3", "10k").build());
  race.read("start", "c1", kGun);
  race.read("k5", "c1", kGun + 22 * kMin);
  race.read("start", "c2", kGun + 5 * kSec);
  race.read("k5", "c2", kGun + 21 * kMin);
  EXPECT_EQ(race.order(), (std::vector<std::string>{"2", "1"}));

  const auto result = race.correct(move("c2", "3"));
  ASSERT_FALSE(result.error) << *result.error;
  ASSERT_EQ(result.changes.size(), 2u);
  EXPECT_EQ(result.changes[0].runner, race.runner("2"));  // loses its splits
  EXPECT_EQ(result.changes[1].runner, race.runner("3"));  // gains them
  EXPECT_EQ(race.order(), (std::vector<std::string>{"3", "1"}));
  EXPECT_EQ(race.engine().status(race.runner("2")), RunnerStatus::not_started);
  EXPECT_EQ(race.split("3", 0), kGun + 5 * kSec);
  EXPECT_EQ(race.split("3", 1), kGun + 21 * kMin);
  EXPECT_EQ(race.engine().runner_of_chip("c2"), race.runner("3"));
  // Later reads of the chip follow it; runner 3's own chip still counts too.
  EXPECT_EQ(race.read("finish", "c2", kGun + 43 * kMin).runner, race.runner("3"));
  EXPECT_EQ(race.split("3", 2), kGun + 43 * kMin);

  // To nobody: the reads wait as an unknown chip's, and come back when it is given again.
  race.correct(move("c2", ""));
  EXPECT_EQ(race.engine().status(race.runner("3")), RunnerStatus::not_started);
  ASSERT_EQ(race.engine().unknown_chips().size(), 1u);
  EXPECT_EQ(race.engine().unknown_chips()[0].chip, "c2");
  EXPECT_EQ(race.engine().unknown_chips()[0].reads, 3u);
  EXPECT_EQ(race.read("finish", "c2", kGun + 43 * kMin + 200).outcome, ReadOutcome::unknown_chip);
  race.correct(move("c2", "2"));
  EXPECT_TRUE(race.engine().unknown_chips().empty());
  EXPECT_EQ(race.split("2", 2), kGun + 43 * kMin);
  EXPECT_EQ(race.order(), (std::vector<std::string>{"2", "1"}));
}

TEST(Corrections, AChipTheEventDoesNotListCanBeGivenToABib) {
  EngineHarness race(two_runners());
  race.read("start", "spare", kGun);
  race.read("k5", "spare", kGun + 25 * kMin);
  EXPECT_FALSE(race.correct(move("spare", "2")).error);
  EXPECT_EQ(race.split("2", 1), kGun + 25 * kMin);
  EXPECT_EQ(race.engine().counters().unknown_chip, 0u);
}

TEST(Corrections, StatusByBibLeavesAndReentersTheRankings) {
  EngineHarness race(two_runners());
  race.read("start", "c1", kGun);
  race.read("start", "c2", kGun);
  race.read("k5", "c1", kGun + 20 * kMin);
  race.read("k5", "c2", kGun + 21 * kMin);
  auto result = race.correct(status("1", OfficialStatus::dsq));
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_TRUE(result.changes[0].standing_changed);
  EXPECT_EQ(race.order(), (std::vector<std::string>{"2"}));
  EXPECT_EQ(race.engine().status(race.runner("1")), RunnerStatus::dsq);
  EXPECT_EQ(race.engine().official_status(race.runner("1")), OfficialStatus::dsq);
  result = race.correct(status("1", OfficialStatus::none));
  EXPECT_EQ(race.order(), (std::vector<std::string>{"1", "2"}));
}

TEST(Corrections, ErrorsNameWhatIsWrongAndChangeNothing) {
  EngineHarness race(two_runners());
  race.read("start", "c1", kGun);
  auto error = [&](const Correction& c) {
    const auto result = race.correct(c);
    EXPECT_TRUE(result.changes.empty());
    return result.error.value_or("(none)");
  };
  EXPECT_EQ(error(status("99", OfficialStatus::dnf)), "unknown bib \"99\"");
  EXPECT_EQ(error(status("", OfficialStatus::dnf)), "bib is required");
  EXPECT_EQ(error(manual("1", "nowhere", kGun)), "unknown timing point \"nowhere\"");
  EXPECT_EQ(error(manual("1", "", kGun)), "timing_point is required");
  EXPECT_EQ(error(manual("1", "finish", kGun - kMin)),
            "time is before the gun of bib 1: only the start mat counts then");
  EXPECT_EQ(error(void_at("1", "finish", kGun + 2 * kMin, kGun + kMin)),
            "the window ends (to) before it starts (from)");
  EXPECT_EQ(error(restore_at("1", "finish", kGun, kGun + kMin)),
            "bib 1 has no void of exactly that window at finish");
  EXPECT_EQ(error(move("", "1")), "chip is required");
  EXPECT_EQ(error(move("c1", "99")), "unknown bib \"99\"");
  EXPECT_EQ(race.split("1", 0), kGun);

  // A timing point of the event that the runner's race does not pass.
  EventBuilder b = ten_k();
  b.timing_point("other");
  b.race("other", {{"start", "other", 0}, {"finish", "other", 5000}});
  EngineHarness two_races(b.runner("1", "c1", "10k").build());
  EXPECT_EQ(two_races.correct(manual("1", "other", kGun)).error,
            "timing point \"other\" is not on the course of bib 1 (race 10k)");
}

TEST(Corrections, NamesRoundTrip) {
  for (const auto k :
       {CorrectionKind::set_status, CorrectionKind::add_read, CorrectionKind::void_reads,
        CorrectionKind::restore_reads, CorrectionKind::move_chip})
    EXPECT_EQ(parse_correction_kind(to_string(k)), k);
  EXPECT_EQ(parse_correction_kind("delete_everything"), std::nullopt);
  EXPECT_EQ(parse_official_status("dnf"), OfficialStatus::dnf);
  EXPECT_EQ(parse_official_status("DNF"), std::nullopt);
}

// Property: corrections keep their order among themselves (the stream's), but the reads around
// them may come in any order, duplicated: the standings come out the same.
void apply_steps(RaceEngine& engine, const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    if (s.read) {
      apply_read(engine, *s.read);
    } else {
      apply_correction(engine, *s.correction);
    }
  }
}

boost::json::value outcome(const Event& event, const std::vector<Step>& steps) {
  RaceEngine engine(event);
  apply_steps(engine, steps);
  return outcome_of(engine);
}

TEST(CorrectionsProperty, ReadsInAnyOrderAroundTheSameCorrectionsGiveTheSameStandings) {
  const Event event = make_synthetic_event(200, 6, 10000);
  SynthOptions options;
  options.seed = 21;
  options.capture_rate = 0.97;
  options.unknown_chip_reads = 10;
  const auto reads = synthesize_reads(event, options);
  ASSERT_GT(reads.size(), 1000u);
  const Participant& a = event.participants[3];
  const Participant& b = event.participants[7];
  const Participant& c = event.participants[11];
  const Race& race = event.races[a.race];
  const std::string& finish = event.timing_points[race.finish().timing_point].id;
  const std::string& mid = event.timing_points[race.splits[2].timing_point].id;
  // Runner a's finish time, whatever it is: void a window around it.
  TimeMs a_finish = kNoTime;
  for (const FileRead& r : reads) {
    if (r.chip == a.chips[0] && event.timing_points[r.timing_point].id == finish)
      a_finish = a_finish == kNoTime ? r.time : std::min(a_finish, r.time);
  }
  ASSERT_NE(a_finish, kNoTime);
  const std::vector<Correction> fixes{
      void_at(a.bib, finish, a_finish - 2 * kSec, a_finish + 10 * kSec),
      move(b.chips[0], c.bib),
      manual(b.bib, mid, race.gun_time + 30 * kMin),
      status(c.bib, OfficialStatus::dsq),
      void_at(c.bib, mid, race.gun_time, race.gun_time + 5 * 3600 * kSec),
      move(b.chips[0], b.bib),
      status(c.bib, OfficialStatus::none),
      restore_at(c.bib, mid, race.gun_time, race.gun_time + 5 * 3600 * kSec),
      move(c.chips[0], ""),
  };
  // Reference: every correction before the first read.
  std::vector<Step> reference;
  for (const Correction& f : fixes)
    reference.push_back({std::nullopt, f});
  for (const FileRead& r : reads)
    reference.push_back({r, std::nullopt});
  const boost::json::value expected = outcome(event, reference);
  std::vector<Step> uncorrected;
  for (const FileRead& r : reads)
    uncorrected.push_back({r, std::nullopt});
  EXPECT_NE(outcome(event, uncorrected), expected);
  for (int seed = 1; seed <= 6; ++seed) {
    SplitMix64 rng(static_cast<std::uint64_t>(seed));
    EXPECT_EQ(outcome(event, interleave(reads, fixes, 0.25, rng)), expected) << "seed " << seed;
  }
  RaceEngine check(event);
  apply_steps(check, reference);
  // The corrections did what they say: a has no finish, c's reads left with its chip.
  EXPECT_EQ(check.splits(event.participant_by_bib.at(a.bib)).times.back(), kNoTime);
  EXPECT_EQ(check.status(event.participant_by_bib.at(c.bib)), RunnerStatus::not_started);
}

}  // namespace
}  // namespace splitstream::testing
