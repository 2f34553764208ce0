// Which crossing is which split: the timing rules applied to one runner's crossings.
// A pure function of the race, the runner's gun and the crossings, so the result does not
// depend on the order in which reads arrived.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/crossings.hpp"
#include "model/event.hpp"

namespace splitstream {

enum class FlagKind : std::uint8_t {
  missed_mats,        // two or more splits in a row without a read, before a later split
  implausible_split,  // a crossing faster than the race's max speed from the previous split
};

struct Flag {
  FlagKind kind;
  std::uint16_t split_from = 0;  // missed_mats: first missed split; implausible: the split
  std::uint16_t split_to = 0;    // missed_mats: last missed split (inclusive)
  TimeMs time = kNoTime;         // implausible: the crossing's time
  float speed_mps = 0;           // implausible: speed it implies

  friend bool operator==(const Flag&, const Flag&) = default;
};

struct SplitAssignment {
  std::vector<TimeMs> times;  // per split of the race; kNoTime where none was seen
  std::vector<Flag> flags;
  int furthest = -1;  // index of the furthest split with a time, -1 if none

  friend bool operator==(const SplitAssignment&, const SplitAssignment&) = default;
};

// The rules, in order of the crossings in time:
// - a crossing at a mat is a candidate for the next split after the last accepted one that
//   uses that mat (on lap courses one mat serves several splits);
// - the start takes the crossing's last read (or as configured), other splits the first;
// - split j is not reachable before max(t_prev + (d_j - d_prev) / v_max, gun + d_j / v_max);
// - a crossing too soon at the mat of the last accepted split is a re-crossing: at a
//   last-read split it moves the time later, elsewhere it is ignored;
// - a crossing too soon at any other mat is an implausible split: flagged, not accepted;
// - two or more splits missed in a row before an accepted split are flagged.
// A flag as short text: "missed_mats:FROM-TO" or "implausible_split:SPLIT" (split ids).
std::string flag_label(const Race& race, const Flag& flag);

void assign_splits(const Race& race, TimeMs gun_time, std::span<const Crossing> crossings,
                   SplitAssignment& out);

}  // namespace splitstream
