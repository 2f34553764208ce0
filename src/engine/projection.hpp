// Where a runner is now and when they reach what is ahead, from their recent pace.
#pragma once

#include <optional>
#include <vector>

#include "engine/race_engine.hpp"

namespace splitstream {

struct ProjectionOptions {
  double default_speed_mps = 2.8;  // before a runner's pace is known (about 6:00 per km)
  double min_speed_mps = 0.5;
  double hold_short_m = 25;  // an overdue runner waits this far before the next mat
};

struct RunnerProjection {
  double distance_m = 0;  // estimated distance along the course
  GeoPoint position;
  double speed_mps = 0;     // the pace the estimate uses
  bool overdue = false;     // past the expected time at the next split
  std::vector<TimeMs> eta;  // per split of the race: kNoTime for splits passed
};

// Nullopt unless the runner is running (has a split and has not finished, DNF or DSQ).
std::optional<RunnerProjection> project_runner(const RaceEngine& engine, RunnerIndex runner,
                                               TimeMs at, const ProjectionOptions& options = {});

// The speed a projection uses: over the last segment between two accepted splits, else from
// the gun to the only split, else the default; clamped to [min, race max].
double recent_speed_mps(const RaceEngine& engine, RunnerIndex runner,
                        const ProjectionOptions& options = {});

// Seconds per km at the runner's furthest split, from their chip time (0.1 s steps).
std::optional<double> pace_s_per_km(const RaceEngine& engine, RunnerIndex r);

}  // namespace splitstream
