// The live gate: public outputs (the push hub's subscriptions, the public REST API) show nothing
// of a race while the server's wall clock is before the race's earliest gun, so that test reads
// at a mat before the start (the crew walking a test chip over the mats, runners' chips read
// while they line up) never reach spectators. The engine still applies every read; only what is
// shown is gated. Pure: the time comes in as a parameter.
#pragma once

#include <optional>
#include <vector>

#include "core/time.hpp"
#include "model/event.hpp"

namespace splitstream {

class LiveGate {
 public:
  // `enabled` false (--live-gate off): no race is ever gated.
  LiveGate(const Event& event, bool enabled);

  bool enabled() const { return enabled_; }
  // The race's earliest gun: its own gun_time and every wave's, whichever is first.
  TimeMs opens_at(RaceIndex race) const { return opens_at_[race]; }
  // True while `now` is before the race's earliest gun and the gate is enabled.
  bool closed(RaceIndex race, TimeMs now) const { return enabled_ && now < opens_at_[race]; }

 private:
  bool enabled_;
  std::vector<TimeMs> opens_at_;  // by race
};

}  // namespace splitstream
