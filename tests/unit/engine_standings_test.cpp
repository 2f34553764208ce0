// Standings, categories, split ranks, official statuses and projections.
#include <gtest/gtest.h>

#include "engine/projection.hpp"
#include "engine/race_engine.hpp"
#include "support/engine_harness.hpp"

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

}  // namespace
}  // namespace splitstream::testing
