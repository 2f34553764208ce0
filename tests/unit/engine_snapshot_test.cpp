// The engine's snapshot (a node's checkpoint): what it keeps, that an engine restored from it
// equals the one it was taken of and goes on alike whatever comes next, and that a snapshot that
// does not fit the event is refused whole.
#include "engine/engine_snapshot.hpp"

#include <gtest/gtest.h>

#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

void apply_steps(RaceEngine& engine, const std::vector<Step>& steps, std::size_t from,
                 std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (steps[i].read) {
      apply_read(engine, *steps[i].read);
    } else {
      apply_correction(engine, *steps[i].correction);
    }
  }
}

Event three_runners() {
  return ten_k().runner("1", "C1", "10k").runner("2", "C2", "10k").runner("3", "C3", "10k").build();
}

TEST(EngineSnapshot, KeepsReadsVoidsStatusesMovedChipsAndUnknownChips) {
  EngineHarness h(three_runners());
  h.read("start", "C1", kGun + 5 * kSec);
  h.read("k5", "C1", kGun + 25 * kMin);
  h.read("finish", "C1", kGun + 50 * kMin);
  h.read("start", "C2", kGun + 8 * kSec);
  h.read("k5", "C2", kGun + 24 * kMin);
  h.read("finish", "C2", kGun + 48 * kMin);
  h.read("k5", "C9", kGun + 30 * kMin);  // nobody's chip
  h.read("start", "C3", kGun + 10 * kSec);
  ASSERT_FALSE(h.correct(move("NEW", "3")).error);  // a chip the event does not list
  h.read("finish", "NEW", kGun + 55 * kMin);
  ASSERT_FALSE(h.correct(void_at("1", "finish", kGun + 49 * kMin, kGun + 51 * kMin)).error);
  ASSERT_FALSE(h.correct(status("2", OfficialStatus::dnf)).error);
  // 3 finished; 1 reached 5 km (its finish voided); 2 is out.
  ASSERT_EQ(h.order(), (std::vector<std::string>{"3", "1"}));

  const EngineSnapshot s = h.engine().snapshot();
  EXPECT_EQ(s.chip_count, 4u);  // C1, C2, C3, NEW
  ASSERT_EQ(s.holders.size(), 1u);
  EXPECT_EQ(s.holders[0], (EngineSnapshot::ChipHolder{3, "NEW", 2}));
  ASSERT_EQ(s.runners.size(), 3u);
  EXPECT_EQ(s.runners[0].runner, 0u);
  EXPECT_EQ(s.runners[0].reads.size(), 3u);
  EXPECT_EQ(s.runners[0].voids, (std::vector<VoidWindow>{{2, kGun + 49 * kMin, kGun + 51 * kMin}}));
  EXPECT_EQ(s.runners[1].official, OfficialStatus::dnf);
  EXPECT_EQ(s.runners[2].reads,
            (std::vector<CreditedRead>{{kGun + 10 * kSec, 0, 2}, {kGun + 55 * kMin, 2, 3}}));
  ASSERT_EQ(s.unknown.size(), 1u);
  EXPECT_EQ(s.unknown[0].chip, "C9");
  EXPECT_EQ(s.unknown[0].reads, (std::vector<ChipRead>{{1, kGun + 30 * kMin}}));
  EXPECT_EQ(s.counters.reads, 9u);
  EXPECT_EQ(s.counters.unknown_chip, 1u);

  EngineHarness restored(three_runners());
  ASSERT_EQ(restored.engine().restore(s), std::nullopt);
  EXPECT_EQ(restored.order(), (std::vector<std::string>{"3", "1"}));
  EXPECT_EQ(restored.split(std::string("3"), 2), kGun + 55 * kMin);
  EXPECT_EQ(restored.engine().status(restored.runner("2")), RunnerStatus::dnf);
  EXPECT_EQ(restored.engine().runner_of_chip("NEW"), restored.runner("3"));
  EXPECT_EQ(full_state_of(restored.engine()), full_state_of(h.engine()));
  EXPECT_EQ(restored.engine().snapshot(), s);

  // Both go on alike: the chip moves back to nobody, 1's void is taken back, C9 is assigned.
  for (EngineHarness* e : {&h, &restored}) {
    ASSERT_FALSE(e->correct(move("NEW", "")).error);
    ASSERT_FALSE(e->correct(restore_at("1", "finish", kGun + 49 * kMin, kGun + 51 * kMin)).error);
    ASSERT_EQ(e->engine().assign_chip("C9", "2"), std::nullopt);
  }
  EXPECT_EQ(restored.order(), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(full_state_of(restored.engine()), full_state_of(h.engine()));
}

TEST(EngineSnapshot, AnEngineFedNothingGivesAnEmptySnapshot) {
  const Event event = three_runners();
  RaceEngine engine(event);
  const EngineSnapshot s = engine.snapshot();
  EXPECT_EQ(s.chip_count, 3u);
  EXPECT_TRUE(s.holders.empty());
  EXPECT_TRUE(s.runners.empty());
  EXPECT_TRUE(s.unknown.empty());
  RaceEngine other(event);
  EXPECT_EQ(other.restore(s), std::nullopt);
  EXPECT_EQ(full_state_of(other), full_state_of(engine));
}

// Property: wherever the checkpoint falls among reads (shuffled, duplicated) and corrections, an
// engine restored from it and fed the rest equals the engine that was fed everything.
TEST(EngineSnapshotProperty, RestoredAnywhereAndFedTheRestEqualsFedEverything) {
  const Event event = make_synthetic_event(150, 6, 10000);
  SynthOptions options;
  options.seed = 31;
  options.capture_rate = 0.97;
  options.dnf_rate = 0.1;
  options.unknown_chip_reads = 10;
  const auto reads = synthesize_reads(event, options);
  ASSERT_GT(reads.size(), 800u);
  const Participant& a = event.participants[2];
  const Participant& b = event.participants[5];
  const Race& race = event.races[a.race];
  const std::string& mid = event.timing_points[race.splits[2].timing_point].id;
  const std::vector<Correction> fixes{
      move(b.chips[0], a.bib),
      status(a.bib, OfficialStatus::dsq),
      manual(b.bib, mid, race.gun_time + 20 * kMin),
      void_at(a.bib, mid, race.gun_time, race.gun_time + 3 * 3600 * kSec),
      move("SPARE-1", b.bib),
      status(a.bib, OfficialStatus::none),
      move(b.chips[0], ""),
  };
  for (int seed = 1; seed <= 3; ++seed) {
    SplitMix64 rng(static_cast<std::uint64_t>(seed));
    const std::vector<Step> steps = interleave(reads, fixes, 0.2, rng);
    RaceEngine everything(event);
    apply_steps(everything, steps, 0, steps.size());
    const boost::json::value expected = full_state_of(everything);
    for (std::size_t cut : {std::size_t{0}, steps.size() / 3, 2 * steps.size() / 3, steps.size()}) {
      RaceEngine before(event);
      apply_steps(before, steps, 0, cut);
      const EngineSnapshot s = before.snapshot();
      RaceEngine restored(event);
      ASSERT_EQ(restored.restore(s), std::nullopt) << "seed " << seed << " cut " << cut;
      EXPECT_EQ(full_state_of(restored), full_state_of(before))
          << "seed " << seed << " cut " << cut;
      EXPECT_EQ(restored.snapshot(), s);
      apply_steps(restored, steps, cut, steps.size());
      EXPECT_EQ(full_state_of(restored), expected) << "seed " << seed << " cut " << cut;
    }
  }
}

// What does not fit is refused with its reason, and the engine is left as it was.
TEST(EngineSnapshot, ASnapshotThatDoesNotFitIsRefusedWhole) {
  EngineHarness h(three_runners());
  h.read("start", "C1", kGun + 5 * kSec);
  h.read("k5", "C1", kGun + 25 * kMin);
  ASSERT_FALSE(h.correct(move("NEW", "2")).error);
  h.read("k5", "NEW", kGun + 26 * kMin);
  h.read("k5", "C9", kGun + 27 * kMin);
  const EngineSnapshot good = h.engine().snapshot();
  ASSERT_EQ(good.runners.size(), 2u);

  const auto refused = [&](EngineSnapshot s, const std::string& reason) {
    EngineHarness fresh(three_runners());
    const boost::json::value before = full_state_of(fresh.engine());
    const auto error = fresh.engine().restore(s);
    EXPECT_TRUE(error && error->find(reason) != std::string::npos)
        << "expected \"" << reason << "\", got \"" << error.value_or("no error") << "\"";
    EXPECT_EQ(full_state_of(fresh.engine()), before);
  };
  EngineSnapshot s = good;
  s.runners[0].runner = 7;
  refused(s, "runner 7: no such runner");
  s = good;
  std::swap(s.runners[0], s.runners[1]);
  refused(s, "out of order");
  s = good;
  s.runners[0].reads[0].timing_point = 9;
  refused(s, "a read at no timing point");
  s = good;
  s.runners[0].reads[0].chip = 3;  // NEW: runner 2's
  refused(s, "a read of a chip the runner does not hold");
  s = good;
  s.holders[0].id = 5;
  refused(s, "does not fit this event");
  s = good;
  s.holders[0].runner = 3;
  refused(s, "no such one");
  s = good;
  s.chip_count = 7;
  refused(s, "its holders make 4");
  s = good;
  s.unknown[0].chip = "C1";
  refused(s, "held by a runner");
  s = good;
  s.runners[1].voids.push_back({1, 10, 5});
  refused(s, "a bad void window");
  s = good;
  s.counters.unknown_chip = 5;
  refused(s, "counts 5 reads of unknown chips, keeps 1");

  // An engine already fed refuses even a good snapshot.
  EngineHarness fed(three_runners());
  fed.read("start", "C2", kGun + 5 * kSec);
  EXPECT_EQ(fed.engine().restore(good),
            std::optional<std::string>("the engine has been fed already"));
}

TEST(EventFingerprint, ChangesWithWhatTheStateDependsOn) {
  const std::string base = event_fingerprint(three_runners());
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(event_fingerprint(three_runners()), base);
  EXPECT_NE(event_fingerprint(ten_k()
                                  .runner("1", "C1", "10k")
                                  .runner("2", "C2", "10k")
                                  .runner("3", "C4", "10k")
                                  .build()),
            base);  // a chip
  EXPECT_NE(event_fingerprint(ten_k().runner("1", "C1", "10k").runner("2", "C2", "10k").build()),
            base);  // a runner fewer
  EventBuilder later;
  later.timing_point("start").timing_point("k5").timing_point("finish");
  later.race("10k", {{"start", "start", 0}, {"5k", "k5", 5000}, {"finish", "finish", 10000}},
             kGun + 60 * kSec);
  EXPECT_NE(
      event_fingerprint(
          later.runner("1", "C1", "10k").runner("2", "C2", "10k").runner("3", "C3", "10k").build()),
      base);  // the gun
}

}  // namespace
}  // namespace splitstream::testing
