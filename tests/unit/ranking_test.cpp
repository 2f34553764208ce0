#include "engine/ranking.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <set>

#include "synth/synthetic_race.hpp"

namespace splitstream {
namespace {

TEST(Ranking, RanksInsertsAndErases) {
  Ranking r;
  EXPECT_EQ(r.rank_of({1, 0, 1}), 0u);
  r.insert({30, 0, 3});
  r.insert({10, 0, 1});
  r.insert({20, 0, 2});
  r.insert({20, 0, 2});  // already there
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.rank_of({10, 0, 1}), 1u);
  EXPECT_EQ(r.rank_of({20, 0, 2}), 2u);
  EXPECT_EQ(r.rank_of({30, 0, 3}), 3u);
  EXPECT_EQ(r.rank_of({20, 0, 9}), 0u);
  EXPECT_EQ(r.first().runner, 1u);
  EXPECT_TRUE(r.erase({10, 0, 1}));
  EXPECT_FALSE(r.erase({10, 0, 1}));
  EXPECT_EQ(r.rank_of({30, 0, 3}), 2u);
  EXPECT_EQ(r.first().runner, 2u);
}

// Keys arriving in order (live reads at one split) split the last block again and again.
TEST(Ranking, InOrderAppendsKeepRanksExact) {
  Ranking r;
  for (std::uint32_t i = 0; i < 5000; ++i)
    r.insert({static_cast<std::int64_t>(i) * 10, 0, i});
  for (std::uint32_t i = 0; i < 5000; i += 37)
    EXPECT_EQ(r.rank_of({static_cast<std::int64_t>(i) * 10, 0, i}), i + 1);
  r.insert({5, 0, 99999});  // one key in front shifts every rank by one
  EXPECT_EQ(r.rank_of({49990, 0, 4999}), 5001u);
  std::vector<std::uint32_t> page;
  r.for_each(4998, 10, [&](const RankKey& k) { page.push_back(k.runner); });
  EXPECT_EQ(page, (std::vector<std::uint32_t>{4997, 4998, 4999}));
}

// Against std::set through many block splits and merges, in random order.
TEST(Ranking, AgreesWithAnOrderedSetUnderRandomOperations) {
  Ranking r;
  std::set<RankKey> reference;
  SplitMix64 rng(17);
  for (int step = 0; step < 40000; ++step) {
    const RankKey k{static_cast<std::int64_t>(rng.below(3000)), 0,
                    static_cast<std::uint32_t>(rng.below(4))};
    if (rng.uniform() < 0.6) {
      r.insert(k);
      reference.insert(k);
    } else {
      EXPECT_EQ(r.erase(k), reference.erase(k) == 1);
    }
    if (step % 997 == 0) {
      ASSERT_EQ(r.size(), reference.size());
      std::size_t rank = 1;
      for (const RankKey& key : reference)
        ASSERT_EQ(r.rank_of(key), rank++);
      std::vector<RankKey> page;
      r.for_each(100, 50, [&](const RankKey& key) { page.push_back(key); });
      const std::size_t expected =
          reference.size() > 100 ? std::min<std::size_t>(50, reference.size() - 100) : 0;
      ASSERT_EQ(page.size(), expected);
      if (!page.empty()) {
        EXPECT_EQ(page.front(), *std::next(reference.begin(), 100));
      }
    }
  }
}

}  // namespace
}  // namespace splitstream
