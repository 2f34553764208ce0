// What a replay sends: a reads file split into one stream per timing device, numbered as the
// device would number them, and the clock that says when each read is due. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
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
