// Property: any permutation and duplication of a race's reads gives the same standings.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>

#include "engine/race_engine.hpp"
#include "model/event_loader.hpp"
#include "support/engine_harness.hpp"
#include "synth/synthetic_race.hpp"

namespace splitstream::testing {
namespace {

boost::json::value outcome(const Event& event, const std::vector<FileRead>& reads) {
  RaceEngine engine(event);
  apply_reads(engine, reads);
  return outcome_of(engine);
}

void expect_order_independent(const Event& event, const std::vector<FileRead>& reads, int seeds) {
  const boost::json::value expected = outcome(event, reads);
  // Sanity: the race produced rankings worth comparing.
  ASSERT_FALSE(expected.at("races").as_array().empty());
  ASSERT_FALSE(expected.at("races").as_array()[0].at("standings").as_array().empty());
  for (int seed = 1; seed <= seeds; ++seed) {
    // A third of the reads arrive again (resends, the other line's copy of the same read).
    SplitMix64 rng(static_cast<std::uint64_t>(seed));
    const auto permuted = shuffled_with_duplicates(reads, 0.33, rng);
    EXPECT_EQ(outcome(event, permuted), expected) << "seed " << seed;
  }
  // Reversed: every read later than the ones after it.
  std::vector<FileRead> reversed(reads.rbegin(), reads.rend());
  EXPECT_EQ(outcome(event, reversed), expected);
}

TEST(EngineProperty, PermutedAndDuplicatedReadsGiveTheSameStandings) {
  const Event event = make_synthetic_event(400, 8, 21097.5);
  SynthOptions options;
  options.seed = 11;
  options.capture_rate = 0.97;  // missed mats, some in a row
  options.dnf_rate = 0.1;
  options.unknown_chip_reads = 20;
  const auto reads = synthesize_reads(event, options);
  ASSERT_GT(reads.size(), 4000u);
  expect_order_independent(event, reads, 8);
}

TEST(EngineProperty, LapCourseOfTheDemoEventIsOrderIndependent) {
  const LoadedEvent loaded = load_event_dir(SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025");
  ASSERT_TRUE(loaded.ok()) << loaded.problems.front().to_string();
  SynthOptions options;
  options.seed = 5;
  options.capture_rate = 0.95;
  options.unknown_chip_reads = 10;
  const auto reads = synthesize_reads(loaded.event, options);
  expect_order_independent(loaded.event, reads, 4);
}

TEST(EngineProperty, ABacklogDelayedByAnHourChangesNothing) {
  const Event event = make_synthetic_event(300, 6, 10000);
  SynthOptions options;
  options.seed = 3;
  auto reads = synthesize_reads(event, options);
  const boost::json::value expected = outcome(event, reads);
  // Device tp2-main loses its link: its reads come after everything else.
  std::stable_partition(reads.begin(), reads.end(),
                        [](const FileRead& r) { return r.device != "tp2-main"; });
  EXPECT_EQ(outcome(event, reads), expected);
}

}  // namespace
}  // namespace splitstream::testing
