#include "push/live_gate.hpp"

#include <algorithm>

namespace splitstream {

LiveGate::LiveGate(const Event& event, bool enabled) : enabled_(enabled) {
  opens_at_.reserve(event.races.size());
  for (const Race& race : event.races) {
    TimeMs first = race.gun_time;
    for (const Wave& wave : race.waves)
      first = std::min(first, wave.gun_time);
    opens_at_.push_back(first);
  }
}

}  // namespace splitstream
