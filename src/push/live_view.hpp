// The engine's state as live messages (proto/splitstream/v1/live.proto): passings, standings
// pages and the deltas between two of them, runner states for the map, a followed runner's
// detail. Pure functions of the engine; the push hub and the REST API both build on them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/race_engine.hpp"
#include "splitstream/v1/live.pb.h"

namespace splitstream {

v1::RunnerStatus to_proto(RunnerStatus status);

// The runner's crossing of split `split` (which must have a time).
v1::Passing make_passing(const RaceEngine& engine, RunnerIndex runner, std::size_t split,
                         std::uint64_t version);

// Rows offset+1 .. offset+limit of a race's standings in a category, at `version`.
v1::StandingsSnapshot make_standings(const RaceEngine& engine, RaceIndex race,
                                     std::string_view category, std::uint32_t offset,
                                     std::uint32_t limit, std::uint64_t version);

// The page of a race the live gate hides (before its gun): no rows, total 0.
v1::StandingsSnapshot make_standings_before_gun(const RaceEngine& engine, RaceIndex race,
                                                std::string_view category, std::uint32_t offset,
                                                std::uint64_t version);

// What turns page `before` into page `after` (same race, category and offset): rows that are
// new or differ, bibs that left the page. Nullopt when nothing changed, the total included.
std::optional<v1::StandingsDelta> diff_standings(const v1::StandingsSnapshot& before,
                                                 const v1::StandingsSnapshot& after);

// Where the runner is, for the browser to animate (see RunnerState in live.proto).
v1::RunnerState make_runner_state(const RaceEngine& engine, RunnerIndex runner);

// A followed runner's card: ranks, splits, pace, gap, flags and, if running, ETAs at `now`.
// The leader (split rank 1, overall) at each split of the race someone has reached, in course
// order, as a snapshot batch.
v1::PassingBatch make_split_leaders(const RaceEngine& engine, RaceIndex race);

v1::RunnerDetail make_runner_detail(const RaceEngine& engine, RunnerIndex runner, TimeMs now);

// A runner of a race the live gate hides (before its gun): who they are, status not started, no
// splits, ranks or state beyond that.
v1::RunnerDetail make_runner_detail_before_gun(const RaceEngine& engine, RunnerIndex runner);

}  // namespace splitstream
