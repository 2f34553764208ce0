#include "engine/ranking.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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
    }
  }
}

// Marked keys are a ranked set of their own (the standings' sections), kept through inserts,
// erases, mark changes and block splits.
TEST(Ranking, MarkedKeysAgreeWithAnOrderedSet) {
  Ranking r;
  std::set<RankKey> all;
  std::set<RankKey> marked;
  SplitMix64 rng(23);
  for (int step = 0; step < 40000; ++step) {
    const RankKey k{static_cast<std::int64_t>(rng.below(3000)), 0,
                    static_cast<std::uint32_t>(rng.below(4))};
    const double op = rng.uniform();
    if (op < 0.45) {
      const bool mark = rng.uniform() < 0.5;
      r.insert(k, mark);
      if (all.insert(k).second && mark) marked.insert(k);
    } else if (op < 0.7) {
      EXPECT_EQ(r.erase(k), all.erase(k) == 1);
      marked.erase(k);
    } else {
      const bool mark = rng.uniform() < 0.5;
      EXPECT_EQ(r.set_marked(k, mark), all.count(k) == 1);
      if (all.count(k) == 1) {
        if (mark)
          marked.insert(k);
        else
          marked.erase(k);
      }
    }
    if (step % 997 == 0) {
      ASSERT_EQ(r.size(), all.size());
      ASSERT_EQ(r.marked_count(), marked.size());
      std::size_t rank = 1;
      for (const RankKey& key : marked)
        ASSERT_EQ(r.marked_rank_of(key), rank++);
      for (const RankKey& key : all) {
        if (marked.count(key) == 0) {
          ASSERT_EQ(r.marked_rank_of(key), 0u);
        }
      }
      std::vector<RankKey> page;
      const std::size_t called =
          r.for_each_marked(100, 50, [&](const RankKey& key) { page.push_back(key); });
      ASSERT_EQ(called, page.size());
      const std::size_t expected =
          marked.size() > 100 ? std::min<std::size_t>(50, marked.size() - 100) : 0;
      ASSERT_EQ(page.size(), expected);
      if (!page.empty()) {
        EXPECT_TRUE(std::equal(page.begin(), page.end(), std::next(marked.begin(), 100)));
      }
    }
  }
}

TEST(Ranking, MarksSurviveTheSplitOfTheLastBlock) {
  Ranking r;
  for (std::uint32_t i = 0; i < 1000; ++i)
    r.insert({static_cast<std::int64_t>(i), 0, i}, i % 3 == 0);
  EXPECT_EQ(r.marked_count(), 334u);
  EXPECT_EQ(r.marked_rank_of({999, 0, 999}), 334u);
  EXPECT_EQ(r.marked_rank_of({998, 0, 998}), 0u);
  EXPECT_TRUE(r.set_marked({998, 0, 998}, true));
  EXPECT_EQ(r.marked_rank_of({999, 0, 999}), 335u);
  EXPECT_FALSE(r.set_marked({1000, 0, 1000}, true));
  std::vector<std::uint32_t> first;
  r.for_each_marked(0, 3, [&](const RankKey& k) { first.push_back(k.runner); });
  EXPECT_EQ(first, (std::vector<std::uint32_t>{0, 3, 6}));
}

}  // namespace
}  // namespace splitstream
