// What a replay sends: a reads file split into one stream per timing device, numbered as the
// device would number them, and the clock that says when each read is due. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/event.hpp"
#include "results/reads_file.hpp"

namespace splitstream {

struct PlannedRead {
  std::uint64_t seq = 0;  // 1-based, in the device's file order
  TimeMs time = 0;
  std::string chip;
  std::string timing_point_id;
  Line line = Line::unspecified;
};

struct DevicePlan {
  std::string device_id;
  std::vector<PlannedRead> reads;
};

struct ReplayPlan {
  std::vector<DevicePlan> devices;  // in the event's device order; devices with no read left out
  TimeMs first = 0;                 // earliest read time
  TimeMs last = 0;                  // latest read time
  std::size_t total = 0;
};

// Splits reads by device. A read without a device goes to the event's device at its timing
// point on its line (else the timing point's first device); throws std::runtime_error naming the
// file line when there is none, or when a named device is not in the event.
ReplayPlan make_replay_plan(const std::vector<FileRead>& reads, const Event& event);

// Faults a timing crew meets on race day, applied to a plan before it is played.
struct FaultOptions {
  double duplicate_rate = 0;  // share of reads a mat reports again, 50-800 ms later (raw dupes)
  double miss_rate = 0;       // share of reads the mats never got
  // A device's clock running off: milliseconds gained per hour of race (negative: lost),
  // counted from the first read of the race.
  std::vector<std::pair<std::string, double>> clock_drift_ms_per_hour;
  std::uint64_t seed = 1;
};

// Applies `faults` to every device's reads and numbers them again 1..n (a duplicate is a read
// of its own, right after the one it repeats). Deterministic for a seed. Throws
// std::invalid_argument naming an unknown device or a rate outside 0..1.
void apply_faults(ReplayPlan& plan, const FaultOptions& faults);

// The plan's reads as a reads file (`splitstream results` reads it back), device by device.
std::string plan_to_csv(const ReplayPlan& plan, const Event& event);

// Race time played at `elapsed_ms` of wall time since the start: first read + elapsed x speed.
// Speed 0 plays as fast as possible (everything is due at once).
class ReplayClock {
 public:
  ReplayClock(TimeMs first, double speed) : first_(first), speed_(speed) {}
  bool as_fast_as_possible() const { return speed_ <= 0; }
  TimeMs race_time(std::int64_t elapsed_ms) const;
  // Wall time since the start at which race time `t` is due (0 when as fast as possible).
  std::int64_t wall_ms_for(TimeMs t) const;

 private:
  TimeMs first_;
  double speed_;
};

// The end of the batch that starts at `from`: reads due by `race_time`, at most `max_batch`.
std::size_t due_until(const DevicePlan& plan, std::size_t from, TimeMs race_time,
                      std::size_t max_batch);

}  // namespace splitstream
