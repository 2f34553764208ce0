#include "sim/replay_plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
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

namespace {

// A uniform draw in [0, 1) from the generator's top 53 bits: the same on every platform.
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

void apply_faults(ReplayPlan& plan, const FaultOptions& faults) {
  for (double rate : {faults.duplicate_rate, faults.miss_rate}) {
    if (!(rate >= 0 && rate <= 1)) throw std::invalid_argument("a fault rate must be 0 to 1");
  }
  std::map<std::string, double, std::less<>> drift;
  for (const auto& entry : faults.clock_drift_ms_per_hour) {
    const std::string& device = entry.first;  // not a structured binding: lambdas capture it
    const bool known = std::any_of(plan.devices.begin(), plan.devices.end(),
                                   [&](const DevicePlan& d) { return d.device_id == device; });
    if (!known) throw std::invalid_argument("no reads from device \"" + device + "\" to drift");
    drift[device] = entry.second;
  }
  std::mt19937_64 rng(faults.seed);
  plan.total = 0;
  plan.first = std::numeric_limits<TimeMs>::max();
  plan.last = std::numeric_limits<TimeMs>::min();
  const TimeMs race_start = [&] {
    TimeMs first = std::numeric_limits<TimeMs>::max();
    for (const DevicePlan& d : plan.devices)
      for (const PlannedRead& r : d.reads)
        first = std::min(first, r.time);
    return first;
  }();
  for (DevicePlan& d : plan.devices) {
    auto it = drift.find(d.device_id);
    const double ms_per_hour = it == drift.end() ? 0.0 : it->second;
    std::vector<PlannedRead> out;
    out.reserve(d.reads.size());
    for (PlannedRead r : d.reads) {
      const bool missed = unit(rng) < faults.miss_rate;
      const bool repeated = unit(rng) < faults.duplicate_rate;
      const auto again_after = static_cast<TimeMs>(50 + rng() % 751);
      if (missed) continue;
      r.time += static_cast<TimeMs>(
          std::llround(ms_per_hour * static_cast<double>(r.time - race_start) / 3'600'000.0));
      out.push_back(r);
      if (repeated) {
        PlannedRead again = r;
        again.time += again_after;
        out.push_back(again);
      }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i].seq = i + 1;
      plan.first = std::min(plan.first, out[i].time);
      plan.last = std::max(plan.last, out[i].time);
    }
    plan.total += out.size();
    d.reads = std::move(out);
  }
  std::erase_if(plan.devices, [](const DevicePlan& d) { return d.reads.empty(); });
  if (plan.total == 0) plan.first = plan.last = 0;
}

std::string plan_to_csv(const ReplayPlan& plan, const Event& event) {
  std::string out = reads_csv_header();
  for (const DevicePlan& d : plan.devices) {
    for (const PlannedRead& r : d.reads) {
      FileRead f;
      f.timing_point = event.find_timing_point(r.timing_point_id).value_or(kNoIndex);
      f.chip = r.chip;
      f.time = r.time;
      f.device = d.device_id;
      f.line = r.line;
      out += to_csv_line(f, event);
    }
  }
  return out;
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
