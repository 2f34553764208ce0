#include "engine/split_assignment.hpp"

#include <algorithm>
#include <cmath>

namespace splitstream {
namespace {

// Earliest time split `j` can be reached, given the last accepted split (or none).
TimeMs earliest(const Race& race, TimeMs gun, int last, TimeMs last_time, std::size_t j) {
  const double v = race.max_speed_mps;
  const double dj = race.splits[j].distance_m;
  TimeMs t = gun + static_cast<DurationMs>(std::ceil(dj / v * 1000.0));
  if (last >= 0) {
    const double dl = race.splits[static_cast<std::size_t>(last)].distance_m;
    t = std::max(t, last_time + static_cast<DurationMs>(std::ceil((dj - dl) / v * 1000.0)));
  }
  return t;
}

TimeMs time_by_rule(const Crossing& c, ReadRule rule) {
  return rule == ReadRule::last ? c.last : c.first;
}

}  // namespace

void assign_splits(const Race& race, TimeMs gun, std::span<const Crossing> crossings,
                   SplitAssignment& out) {
  const std::size_t n = race.splits.size();
  out.times.assign(n, kNoTime);
  out.flags.clear();
  out.furthest = -1;
  int last = -1;
  TimeMs last_time = gun;
  for (const Crossing& c : crossings) {
    // The next split after the last accepted one at this crossing's mat.
    std::size_t j = static_cast<std::size_t>(last + 1);
    while (j < n && race.splits[j].timing_point != c.timing_point)
      ++j;
    const bool at_last_mat =
        last >= 0 && race.splits[static_cast<std::size_t>(last)].timing_point == c.timing_point;
    if (j < n) {
      const TimeMs t = time_by_rule(c, race.splits[j].read_rule);
      if (last < 0 && j == 0) {
        // The start has no earliest time: runners stand on the mat before the gun.
        out.times[0] = last_time = t;
        last = 0;
        continue;
      }
      if (t >= earliest(race, gun, last, last_time, j)) {
        out.times[j] = last_time = t;
        last = static_cast<int>(j);
        continue;
      }
      if (!at_last_mat) {
        const double dist =
            race.splits[j].distance_m -
            (last >= 0 ? race.splits[static_cast<std::size_t>(last)].distance_m : 0);
        const double secs = static_cast<double>(t - last_time) / 1000.0;
        out.flags.push_back({FlagKind::implausible_split, static_cast<std::uint16_t>(j), 0, t,
                             static_cast<float>(secs > 0 ? dist / secs : INFINITY)});
        continue;
      }
    }
    // A re-crossing of the last accepted split's mat (or one after the finish).
    if (at_last_mat) {
      const auto l = static_cast<std::size_t>(last);
      if (race.splits[l].read_rule == ReadRule::last) {
        out.times[l] = last_time = std::max(last_time, c.last);
      }
    }
  }
  out.furthest = last;
  // Runs of two or more missed splits before an accepted one.
  int previous = -1;
  for (int i = 0; i <= last; ++i) {
    if (out.times[static_cast<std::size_t>(i)] == kNoTime) continue;
    if (i - previous - 1 >= 2) {
      out.flags.push_back({FlagKind::missed_mats, static_cast<std::uint16_t>(previous + 1),
                           static_cast<std::uint16_t>(i - 1), kNoTime, 0});
    }
    previous = i;
  }
}

std::string flag_label(const Race& race, const Flag& flag) {
  if (flag.kind == FlagKind::missed_mats)
    return "missed_mats:" + race.splits[flag.split_from].id + "-" + race.splits[flag.split_to].id;
  return "implausible_split:" + race.splits[flag.split_from].id;
}

}  // namespace splitstream
