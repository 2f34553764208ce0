#include "sim/replay_plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

namespace splitstream {

ReplayPlan make_replay_plan(const std::vector<FileRead>& reads, const Event& event) {
  std::map<std::string, std::size_t, std::less<>> index;  // device id -> position in plan
  ReplayPlan plan;
  for (const Device& d : event.devices) {
    index.emplace(d.id, plan.devices.size());
    plan.devices.push_back({d.id, {}});
  }
  auto device_for = [&](const FileRead& r) -> std::size_t {
    if (!r.device.empty()) {
      auto it = index.find(r.device);
      if (it == index.end()) {
        throw std::runtime_error("line " + std::to_string(r.source_line) + ": device \"" +
                                 r.device + "\" is not in the event");
      }
      return it->second;
    }
    const Device* fallback = nullptr;
    for (const Device& d : event.devices) {
      if (d.timing_point != r.timing_point) continue;
      if (d.line == r.line) return index.at(d.id);
      if (!fallback) fallback = &d;
    }
    if (!fallback) {
      throw std::runtime_error("line " + std::to_string(r.source_line) +
                               ": no device of the event at timing point \"" +
                               event.timing_points[r.timing_point].id + "\"");
    }
    return index.at(fallback->id);
  };
  plan.first = std::numeric_limits<TimeMs>::max();
  plan.last = std::numeric_limits<TimeMs>::min();
  for (const FileRead& r : reads) {
    DevicePlan& d = plan.devices[device_for(r)];
    d.reads.push_back(
        {d.reads.size() + 1, r.time, r.chip, event.timing_points[r.timing_point].id, r.line});
    plan.first = std::min(plan.first, r.time);
    plan.last = std::max(plan.last, r.time);
    ++plan.total;
  }
  std::erase_if(plan.devices, [](const DevicePlan& d) { return d.reads.empty(); });
  if (plan.total == 0) plan.first = plan.last = 0;
  return plan;
}

TimeMs ReplayClock::race_time(std::int64_t elapsed_ms) const {
  if (as_fast_as_possible()) return std::numeric_limits<TimeMs>::max();
  return first_ + static_cast<TimeMs>(std::floor(static_cast<double>(elapsed_ms) * speed_));
}

std::int64_t ReplayClock::wall_ms_for(TimeMs t) const {
  if (as_fast_as_possible() || t <= first_) return 0;
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(t - first_) / speed_));
}

std::size_t due_until(const DevicePlan& plan, std::size_t from, TimeMs race_time,
                      std::size_t max_batch) {
  std::size_t end = from;
  while (end < plan.reads.size() && end - from < max_batch && plan.reads[end].time <= race_time)
    ++end;
  return end;
}

}  // namespace splitstream
