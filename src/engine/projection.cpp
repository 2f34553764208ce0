#include "engine/projection.hpp"

#include <algorithm>
#include <cmath>

namespace splitstream {

double recent_speed_mps(const RaceEngine& engine, RunnerIndex r, const ProjectionOptions& options) {
  const Event& event = engine.event();
  const Race& race = event.races[event.participants[r].race];
  const SplitAssignment& a = engine.splits(r);
  double speed = options.default_speed_mps;
  int last = a.furthest, previous = -1;
  for (int i = last - 1; i >= 0; --i) {
    if (a.times[static_cast<std::size_t>(i)] != kNoTime) {
      previous = i;
      break;
    }
  }
  if (last >= 0) {
    const auto l = static_cast<std::size_t>(last);
    const double d_last = race.splits[l].distance_m;
    const double d_prev =
        previous >= 0 ? race.splits[static_cast<std::size_t>(previous)].distance_m : 0;
    const TimeMs t_prev =
        previous >= 0 ? a.times[static_cast<std::size_t>(previous)] : engine.gun_time(r);
    const double secs = static_cast<double>(a.times[l] - t_prev) / 1000.0;
    if (d_last - d_prev > 0 && secs > 0) speed = (d_last - d_prev) / secs;
  }
  return std::clamp(speed, options.min_speed_mps, race.max_speed_mps);
}

std::optional<RunnerProjection> project_runner(const RaceEngine& engine, RunnerIndex r, TimeMs at,
                                               const ProjectionOptions& options) {
  if (engine.status(r) != RunnerStatus::running) return std::nullopt;
  const Event& event = engine.event();
  const Race& race = event.races[event.participants[r].race];
  const SplitAssignment& a = engine.splits(r);
  const auto last = static_cast<std::size_t>(a.furthest);
  const std::size_t next = last + 1;  // running: there is a split after the furthest
  RunnerProjection p;
  p.speed_mps = recent_speed_mps(engine, r, options);
  const double d_last = race.splits[last].distance_m;
  const double elapsed = std::max(0.0, static_cast<double>(at - a.times[last]) / 1000.0);
  const double free_distance = d_last + p.speed_mps * elapsed;
  const double hold = std::max(d_last, race.splits[next].distance_m - options.hold_short_m);
  p.overdue = free_distance > hold;
  p.distance_m = std::min(free_distance, hold);
  p.position = race.course.point_at(p.distance_m);
  p.eta.assign(race.splits.size(), kNoTime);
  const TimeMs now = std::max(at, a.times[last]);
  for (std::size_t s = next; s < race.splits.size(); ++s) {
    const double secs = (race.splits[s].distance_m - p.distance_m) / p.speed_mps;
    p.eta[s] = now + static_cast<DurationMs>(secs * 1000.0);
  }
  return p;
}

std::optional<double> pace_s_per_km(const RaceEngine& engine, RunnerIndex r) {
  const Race& race = engine.event().races[engine.event().participants[r].race];
  const int f = engine.splits(r).furthest;
  if (f <= 0) return std::nullopt;
  const double d = race.splits[static_cast<std::size_t>(f)].distance_m;
  const auto t = engine.chip_time_at(r, static_cast<std::size_t>(f));
  if (!t || d <= 0 || *t <= 0) return std::nullopt;
  return std::round(static_cast<double>(*t) / d * 10.0) / 10.0;  // ms per m is s per km
}

}  // namespace splitstream
