#include "engine/chip_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

#include "synth/synthetic_race.hpp"

namespace splitstream {
namespace {

TEST(ChipIndex, FindsShortAndLongChipsAndKeepsTheirIds) {
  ChipIndex index;
  const std::string epc = "E2801160600002054CF3A1B7";  // 24 characters: kept outside the slot
  const std::string nineteen(19, '7');                 // the longest kept in the slot
  const std::string twenty(20, '7');
  EXPECT_TRUE(index.insert("KZ12345", 0));
  EXPECT_TRUE(index.insert(epc, 1));
  EXPECT_TRUE(index.insert(nineteen, 2));
  EXPECT_TRUE(index.insert(twenty, 3));
  EXPECT_TRUE(index.insert(std::string_view{}, 4));  // no data pointer at all
  EXPECT_FALSE(index.insert("KZ12345", 9));          // already there: keeps its runner
  EXPECT_EQ(index.find("KZ12345"), 0u);
  EXPECT_EQ(index.find(epc), 1u);
  EXPECT_EQ(index.find(nineteen), 2u);
  EXPECT_EQ(index.find(twenty), 3u);
  EXPECT_EQ(index.find(""), 4u);
  EXPECT_EQ(index.find("KZ1234"), std::nullopt);    // a prefix
  EXPECT_EQ(index.find("KZ123456"), std::nullopt);  // longer
  EXPECT_EQ(index.find(std::string(18, '7')), std::nullopt);
  EXPECT_EQ(index.find(std::string(21, '7')), std::nullopt);
  EXPECT_EQ(index.chip(index.lookup(epc)->id), epc);
  EXPECT_EQ(index.chip(index.lookup(nineteen)->id), nineteen);
}

TEST(ChipIndex, DetachedChipsKeepTheirIdAndCanBeAssignedAgain) {
  ChipIndex index;
  index.insert("A1", 5);
  const std::uint32_t id = index.lookup("A1")->id;
  EXPECT_EQ(index.assign("A1", ChipIndex::kNobody), id);
  EXPECT_EQ(index.find("A1"), std::nullopt);
  EXPECT_EQ(index.lookup("A1")->runner, ChipIndex::kNobody);
  EXPECT_EQ(index.assign("A1", 6), id);
  EXPECT_EQ(index.find("A1"), 6u);
  EXPECT_EQ(index.assign("NEW", 7), 1u);  // a chip the event did not list gets the next id
  EXPECT_EQ(index.size(), 2u);
}

// Against std::map through many growths, with chips of every length around the slot's limit.
TEST(ChipIndex, AgreesWithAMapThroughGrowth) {
  ChipIndex index;
  std::map<std::string, std::uint32_t> reference;
  SplitMix64 rng(5);
  for (std::uint32_t i = 0; i < 20000; ++i) {
    std::string chip = std::to_string(rng.below(30000));
    chip.insert(0, rng.below(30), 'X');  // 1 to 34 characters
    const auto runner = static_cast<std::uint32_t>(rng.below(1000));
    const std::uint32_t id = index.assign(chip, runner);
    const auto [it, added] = reference.emplace(chip, id);
    if (!added) {
      EXPECT_EQ(it->second, id) << chip;  // the id stays
    }
    EXPECT_EQ(index.find(chip), runner) << chip;
  }
  EXPECT_EQ(index.size(), reference.size());
  for (const auto& [chip, id] : reference) {
    ASSERT_EQ(index.lookup(chip)->id, id) << chip;
    ASSERT_EQ(index.chip(id), chip);
    ASSERT_EQ(index.find(chip + "?"), std::nullopt);
  }
}

TEST(ChipIndex, PrefetchOfAnyChipChangesNothing) {
  ChipIndex index;
  index.prefetch("A1");  // no slots yet
  index.insert("A1", 3);
  index.prefetch("A1");
  index.prefetch("not there");
  index.prefetch("");
  EXPECT_EQ(index.find("A1"), 3u);
  EXPECT_EQ(index.size(), 1u);
}

}  // namespace
}  // namespace splitstream
