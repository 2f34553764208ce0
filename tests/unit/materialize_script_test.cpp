// The materialised-state arguments: runner hash fields, standings scores and the key layout,
// with expectations worked out by hand from a small race.
#include "store/materialize_script.hpp"

#include <gtest/gtest.h>

#include "store/stream_follower.hpp"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

Event two_runners() {
  return ten_k().runner("7", "c7", "10k", Gender::female, "F35").runner("8", "c8", "10k").build();
}

TEST(StandingScore, MoreSplitsFirstThenTime) {
  // Furthest split 2 at 45 min beats furthest split 1 at 20 min; at one split, time orders.
  const double finished = standing_score({-2, 45 * kMin, 0});
  const double at_5k_fast = standing_score({-1, 20 * kMin, 1});
  const double at_5k_slow = standing_score({-1, 21 * kMin, 2});
  EXPECT_LT(finished, at_5k_fast);
  EXPECT_LT(at_5k_fast, at_5k_slow);
  // (4095 - 2) * 10^12 + 2,700,000: exact in a double.
  EXPECT_EQ(finished, 4093.0 * 1e12 + 2'700'000.0);
  EXPECT_EQ(static_cast<std::int64_t>(finished), 4'093'000'002'700'000);
}

TEST(RunnerFields, DescribeTheRunnersState) {
  EngineHarness race(two_runners());
  race.read("start", "c7", kGun + 30 * kSec);
  race.read("k5", "c7", kGun + 20 * kMin);
  const auto fields = runner_fields(race.engine(), 0, "1743894000000-3");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"race", "10k"},
      {"status", "running"},
      {"furthest", "5k"},
      {"time_ms", "1200000"},  // gun time at the 5 km
      {"start_ms", "1743894030000"},
      {"splits", "start=1743894030000,5k=1743895200000"},
      {"flags", ""},
      {"version", "1743894000000-3"},
  };
  EXPECT_EQ(fields, expected);
  // Nobody has seen runner 8: not started, no split.
  const auto idle = runner_fields(race.engine(), 1, "1-0");
  EXPECT_EQ(idle[1].second, "not_started");
  EXPECT_EQ(idle[2].second, "");
  EXPECT_EQ(idle[5].second, "");
}

TEST(MaterializeArgs, ListEveryKeyOnceAndOneOperationPerWrite) {
  EngineHarness race(two_runners());
  race.read("k5", "c7", kGun + 20 * kMin);
  const KeySchema keys("e");
  std::vector<std::string> args{"EVALSHA", "sha"};
  const std::vector<RunnerIndex> runners{0, 1};
  append_materialize_args(args, race.engine(), keys, runners, "5-1", 42);
  // Keys: meta, runner 7, its three standings (overall, F, F35), runner 8, its M standings
  // (overall is shared).
  const std::vector<std::string> head = {"EVALSHA",
                                         "sha",
                                         "7",
                                         "{ev:e}:meta",
                                         "{ev:e}:runner:7",
                                         "{ev:e}:standings:10k:overall",
                                         "{ev:e}:standings:10k:F",
                                         "{ev:e}:standings:10k:F35",
                                         "{ev:e}:runner:8",
                                         "{ev:e}:standings:10k:M",
                                         "5-1",
                                         "42"};
  ASSERT_GE(args.size(), head.size());
  EXPECT_EQ(std::vector<std::string>(args.begin(), args.begin() + head.size()), head);
  const std::vector<std::string> ops(args.begin() + head.size(), args.end());
  // Runner 7: HSET of 8 fields into key 2, then ZADD into keys 3, 4, 5 with its score.
  ASSERT_EQ(ops.size(), (3 + 16) + 3 * 4 + (3 + 16) + 2 * 3);
  EXPECT_EQ(ops[0], "H");
  EXPECT_EQ(ops[1], "2");
  EXPECT_EQ(ops[2], "8");
  const std::string score = std::to_string(4094LL * 1'000'000'000'000LL + 20 * kMin);
  const std::vector<std::string> zadds(ops.begin() + 19, ops.begin() + 31);
  EXPECT_EQ(zadds, (std::vector<std::string>{"Z", "3", score, "7", "Z", "4", score, "7", "Z", "5",
                                             score, "7"}));
  // Runner 8 is not ranked: removed from overall (3) and M (7).
  const std::vector<std::string> removals(ops.end() - 6, ops.end());
  EXPECT_EQ(removals, (std::vector<std::string>{"R", "3", "8", "R", "7", "8"}));
  EXPECT_EQ(ops[31], "H");
  EXPECT_EQ(ops[32], "6");
}

TEST(StreamIds, CompareNumericallyNotAsText) {
  EXPECT_LT(compare_stream_ids("999-5", "1000-0"), 0);
  EXPECT_LT(compare_stream_ids("1000-2", "1000-10"), 0);
  EXPECT_EQ(compare_stream_ids("1000-10", "1000-10"), 0);
  EXPECT_GT(compare_stream_ids("1000-0", "0"), 0);
  EXPECT_EQ(compare_stream_ids("0", "0-0"), 0);
  EXPECT_LT(compare_stream_ids("junk", "0"), 0);
}

}  // namespace
}  // namespace splitstream::testing
