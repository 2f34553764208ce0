// Standings, categories, split ranks, official statuses and projections.
#include <gtest/gtest.h>

#include "engine/projection.hpp"
#include "engine/race_engine.hpp"
#include "support/engine_harness.hpp"
#include "synth/synthetic_race.hpp"

namespace splitstream::testing {
namespace {

Event four_runners(RankBy rank_by) {
  EventBuilder b;
  b.timing_point("start").timing_point("k5").timing_point("finish");
  b.race("10k", {{"start", "start", 0}, {"5k", "k5", 5000}, {"finish", "finish", 10000}}, kGun,
         rank_by);
  b.runner("1", "c1", "10k", Gender::male, "M35");
  b.runner("2", "c2", "10k", Gender::female, "F35");
  b.runner("3", "c3", "10k", Gender::male, "M20");
  b.runner("4", "c4", "10k", Gender::female, "F35");
  return b.build();
}

TEST(Standings, FurthestSplitFirstThenGunTime) {
  EngineHarness f(four_runners(RankBy::gun));
  // Starts: 1 at +10 s, 2 at +60 s, 3 at +5 s, 4 at +2 min.
  f.read("start", "c1", kGun + 10 * kSec);
  f.read("start", "c2", kGun + 60 * kSec);
  f.read("start", "c3", kGun + 5 * kSec);
  f.read("start", "c4", kGun + 2 * kMin);
  EXPECT_EQ(f.order(), (std::vector<std::string>{"3", "1", "2", "4"}));
  f.read("k5", "c2", kGun + 22 * kMin);
  f.read("k5", "c1", kGun + 23 * kMin);
  EXPECT_EQ(f.order(), (std::vector<std::string>{"2", "1", "3", "4"}));
  f.read("finish", "c1", kGun + 45 * kMin);
  EXPECT_EQ(f.order(), (std::vector<std::string>{"1", "2", "3", "4"}));
  // Each leads at their furthest split (1 the finish, 2 the 5 km): no gap yet.
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("2")), 0);
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("1")), 0);
  f.read("finish", "c2", kGun + 46 * kMin + 30 * kSec);
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("2")), 90 * kSec);
  EXPECT_EQ(f.engine().split_rank(f.runner("1"), 1), 2u);
  EXPECT_EQ(f.engine().split_rank(f.runner("2"), 1), 1u);
  EXPECT_EQ(f.engine().split_rank(f.runner("2"), 2), 2u);
  EXPECT_EQ(f.engine().status(f.runner("4")), RunnerStatus::running);
}

TEST(Standings, ChipTimeRankingUsesEachRunnersOwnStart) {
  EngineHarness f(four_runners(RankBy::chip));
  f.read("start", "c1", kGun + 10 * kSec);
  f.read("start", "c4", kGun + 3 * kMin);
  f.read("finish", "c1", kGun + 45 * kMin);  // chip 44:50
  f.read("finish", "c4", kGun + 47 * kMin);  // chip 44:00, gun 47:00
  EXPECT_EQ(f.order(), (std::vector<std::string>{"4", "1"}));
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("1")), 50 * kSec);
  EXPECT_EQ(f.engine().rank(f.runner("4")), 1u);
}

TEST(Standings, CategoriesRankWithinGenderAndAgeGroup) {
  EngineHarness f(four_runners(RankBy::gun));
  for (const char* c : {"c1", "c2", "c3", "c4"})
    f.read("start", c, kGun);
  f.read("finish", "c3", kGun + 40 * kMin);
  f.read("finish", "c4", kGun + 41 * kMin);
  f.read("finish", "c1", kGun + 42 * kMin);
  f.read("finish", "c2", kGun + 43 * kMin);
  EXPECT_EQ(f.order("F"), (std::vector<std::string>{"4", "2"}));
  EXPECT_EQ(f.order("M"), (std::vector<std::string>{"3", "1"}));
  EXPECT_EQ(f.order("F35"), (std::vector<std::string>{"4", "2"}));
  EXPECT_EQ(f.order("M35"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(f.engine().rank(f.runner("2"), "F"), 2u);
  EXPECT_EQ(f.engine().rank(f.runner("2"), "M"), 0u);
  EXPECT_EQ(f.engine().rank(f.runner("1"), "M35"), 1u);
  EXPECT_EQ(f.engine().categories(0),
            (std::vector<std::string>{"overall", "F", "M", "F35", "M20", "M35"}));
  EXPECT_EQ(f.engine().ranked_count(0, "F35"), 2u);
  // Gaps and split ranks within a category are to that category's fastest.
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("2")), 3 * kMin);
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("2"), "F"), 2 * kMin);
  EXPECT_EQ(f.engine().gap_to_leader(f.runner("2"), "M"), std::nullopt);
  EXPECT_EQ(f.engine().split_rank(f.runner("2"), 2), 4u);
  EXPECT_EQ(f.engine().split_rank(f.runner("2"), 2, "F"), 2u);
  EXPECT_EQ(f.engine().split_rank(f.runner("1"), 2, "M35"), 1u);
  EXPECT_EQ(f.engine().standings(0, "overall", 1, 2).size(), 2u);
  EXPECT_EQ(f.engine().standings(0, "overall", 1, 2)[0], f.runner("4"));
}

TEST(Standings, OfficialDnfAndDsqLeaveTheRankingsAndCanBeCleared) {
  EngineHarness f(four_runners(RankBy::gun));
  for (const char* c : {"c1", "c2", "c3"})
    f.read("start", c, kGun);
  f.read("k5", "c1", kGun + 20 * kMin);
  f.read("k5", "c2", kGun + 21 * kMin);
  f.read("k5", "c3", kGun + 22 * kMin);
  f.engine().set_official_status(f.runner("1"), OfficialStatus::dsq);
  f.engine().set_official_status(f.runner("3"), OfficialStatus::dnf);
  EXPECT_EQ(f.order(), (std::vector<std::string>{"2"}));
  EXPECT_EQ(f.engine().status(f.runner("1")), RunnerStatus::dsq);
  EXPECT_EQ(f.engine().status(f.runner("3")), RunnerStatus::dnf);
  EXPECT_EQ(f.engine().rank(f.runner("1")), 0u);
  EXPECT_EQ(f.engine().split_rank(f.runner("2"), 1), 1u);  // 1 no longer counts at 5 km
  EXPECT_EQ(f.engine().splits(f.runner("1")).times[1], kGun + 20 * kMin);  // splits are kept
  // A late read for a disqualified runner changes their splits but not the rankings.
  f.read("finish", "c1", kGun + 40 * kMin);
  EXPECT_EQ(f.order(), (std::vector<std::string>{"2"}));
  f.engine().set_official_status(f.runner("1"), OfficialStatus::none);
  EXPECT_EQ(f.order(), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(f.engine().split_rank(f.runner("2"), 1), 2u);
  EXPECT_EQ(f.engine().status(f.runner("1")), RunnerStatus::finished);
}

TEST(Standings, NotStartedRunnersAreUnranked) {
  EngineHarness f(four_runners(RankBy::gun));
  f.read("start", "c1", kGun);
  EXPECT_EQ(f.engine().status(f.runner("2")), RunnerStatus::not_started);
  EXPECT_EQ(f.engine().rank(f.runner("2")), 0u);
  EXPECT_EQ(f.engine().ranked_count(0, "overall"), 1u);
}

TEST(Projection, MovesAtTheRecentPaceAndGivesEtas) {
  EngineHarness f(four_runners(RankBy::gun));
  f.read("start", "c1", kGun);
  f.read("k5", "c1", kGun + 25 * kMin);  // 5000 m in 1500 s: 3.333 m/s
  const auto p = project_runner(f.engine(), f.runner("1"), kGun + 30 * kMin);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->speed_mps, 5000.0 / 1500.0, 1e-9);
  EXPECT_NEAR(p->distance_m, 6000, 1e-6);  // 5000 + 300 s * 3.333 m/s
  EXPECT_FALSE(p->overdue);
  // 4000 m left at 3.333 m/s: 1200 s.
  EXPECT_EQ(p->eta[2], kGun + 50 * kMin);
  EXPECT_EQ(p->eta[1], kNoTime);
  // On the equator line: 6000 m east of (0, 0).
  EXPECT_NEAR(p->position.lon, 6000 / 111319.49, 1e-6);
}

TEST(Projection, UsesTheLastSegmentAndHoldsShortOfAnOverdueMat) {
  EngineHarness f(four_runners(RankBy::gun));
  f.read("start", "c1", kGun);
  f.read("k5", "c1", kGun + 20 * kMin);
  // Not finished an hour later: held 25 m short of the finish, flagged overdue.
  const auto p = project_runner(f.engine(), f.runner("1"), kGun + 80 * kMin);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->overdue);
  EXPECT_NEAR(p->distance_m, 9975, 1e-6);
  EXPECT_NEAR(p->speed_mps, 5000.0 / 1200.0, 1e-9);
  // ETA from where the runner is held: 25 m at 4.1667 m/s = 6 s.
  EXPECT_EQ(p->eta[2], kGun + 80 * kMin + 6 * kSec);
  // Finished and not-started runners have no projection.
  EXPECT_FALSE(project_runner(f.engine(), f.runner("2"), kGun + kMin));
  f.read("finish", "c1", kGun + 81 * kMin);
  EXPECT_FALSE(project_runner(f.engine(), f.runner("1"), kGun + 82 * kMin));
}

TEST(Projection, WithOnlyAStartUsesTheDefaultSpeed) {
  EngineHarness f(four_runners(RankBy::gun));
  f.read("start", "c1", kGun);
  ProjectionOptions options;
  options.default_speed_mps = 3.0;
  const auto p = project_runner(f.engine(), f.runner("1"), kGun + 10 * kMin, options);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->distance_m, 1800, 1e-6);
}

// The standings are kept as marks in the split rankings, not as a set of their own: in every
// category they must equal the runners' standing keys sorted, with split ranks to match, through
// late and shuffled reads and corrections, for gun and chip ranking.
void expect_standings_match_sorted_keys(const RaceEngine& engine) {
  const Event& event = engine.event();
  for (const std::string& category : engine.categories(0)) {
    std::vector<std::pair<RankKey, RunnerIndex>> expected;
    for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
      const auto groups = RaceEngine::categories_of(event.participants[r]);
      const bool member = std::find(groups.begin(), groups.end(), category) != groups.end();
      if (const auto key = engine.standing_key(r)) {
        if (member) expected.emplace_back(*key, r);
      }
      if (!member || !engine.standing_key(r)) {
        ASSERT_EQ(engine.rank(r, category), 0u) << category << " runner " << r;
      }
    }
    std::sort(expected.begin(), expected.end());
    std::vector<RunnerIndex> order;
    for (const auto& entry : expected)
      order.push_back(entry.second);
    ASSERT_EQ(engine.ranked_count(0, category), order.size()) << category;
    ASSERT_EQ(engine.standings(0, category), order) << category;
    for (std::size_t i = 0; i < order.size(); ++i)
      ASSERT_EQ(engine.rank(order[i], category), i + 1) << category;
    const std::size_t offset = std::min<std::size_t>(37, order.size());
    const std::size_t end = std::min<std::size_t>(offset + 50, order.size());
    const std::vector<RunnerIndex> page(order.begin() + static_cast<std::ptrdiff_t>(offset),
                                        order.begin() + static_cast<std::ptrdiff_t>(end));
    ASSERT_EQ(engine.standings(0, category, offset, 50), page) << category;
    // Split ranks: the category's runners with a time there, by (ranked time, runner).
    for (std::size_t s = 0; s < event.races[0].splits.size(); ++s) {
      std::vector<std::pair<DurationMs, RunnerIndex>> at_split;
      for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
        const auto groups = RaceEngine::categories_of(event.participants[r]);
        if (std::find(groups.begin(), groups.end(), category) == groups.end()) continue;
        if (engine.official_status(r) != OfficialStatus::none) continue;
        if (const auto t = engine.ranked_time_at(r, s)) at_split.emplace_back(*t, r);
      }
      std::sort(at_split.begin(), at_split.end());
      for (std::size_t i = 0; i < at_split.size(); ++i)
        ASSERT_EQ(engine.split_rank(at_split[i].second, s, category), i + 1) << category;
    }
  }
}

class StandingsAgainstSortedKeys : public ::testing::TestWithParam<RankBy> {};

TEST_P(StandingsAgainstSortedKeys, InEveryCategoryThroughShuffledReadsAndCorrections) {
  Event event = make_synthetic_event(600, 6, 10000);
  event.races[0].rank_by = GetParam();
  SynthOptions options;
  options.seed = 3;
  options.dnf_rate = 0.1;
  std::vector<FileRead> reads = synthesize_reads(event, options);
  // Mostly in time order, a fifth of the reads late by up to an hour's worth of others.
  SplitMix64 rng(11);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    if (rng.uniform() < 0.2)
      std::swap(reads[i], reads[std::min(reads.size() - 1, i + rng.below(4000))]);
  }
  RaceEngine engine(event);
  const std::size_t third = reads.size() / 3;
  for (std::size_t i = 0; i < reads.size(); ++i) {
    engine.apply({reads[i].timing_point, reads[i].chip, reads[i].time});
    if ((i + 1) % third == 0) expect_standings_match_sorted_keys(engine);
  }
  // Officials: a DNF, a DSQ taken back, a voided finish, a manual read, a chip moved.
  const auto runner = [&](std::string_view bib) {
    return event.participant_by_bib.at(std::string(bib));
  };
  const TimingPointIndex finish = event.races[0].splits.back().timing_point;
  engine.set_official_status(runner("5"), OfficialStatus::dnf);
  engine.set_official_status(runner("6"), OfficialStatus::dsq);
  engine.set_official_status(runner("6"), OfficialStatus::none);
  engine.void_reads(runner("7"), {finish, 0, INT64_MAX});
  engine.apply_manual(runner("8"), finish, event.races[0].gun_time + 30 * kMin);
  engine.move_chip(event.participants[runner("9")].chips.front(), runner("10"));
  expect_standings_match_sorted_keys(engine);
  engine.restore_reads(runner("7"), {finish, 0, INT64_MAX});
  engine.set_official_status(runner("5"), OfficialStatus::none);
  expect_standings_match_sorted_keys(engine);
}

INSTANTIATE_TEST_SUITE_P(Engine, StandingsAgainstSortedKeys,
                         ::testing::Values(RankBy::gun, RankBy::chip));

}  // namespace
}  // namespace splitstream::testing
