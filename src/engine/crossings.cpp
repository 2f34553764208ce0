#include "engine/crossings.hpp"

#include <algorithm>

namespace splitstream {
namespace {

bool before(const Crossing& a, const Crossing& b) {
  return a.first != b.first ? a.first < b.first : a.timing_point < b.timing_point;
}

}  // namespace

CrossingSet::Change CrossingSet::add(TimingPointIndex tp, TimeMs t, DurationMs dedup_ms) {
  // Crossings at one mat are at least dedup_ms apart, so a read touches at most two of them:
  // the one before it and the one after it.
  std::size_t hit[2];
  std::size_t hits = 0;
  for (std::size_t i = 0; i < items_.size() && hits < 2; ++i) {
    const Crossing& c = items_[i];
    if (c.timing_point != tp) continue;
    if (t >= c.first - dedup_ms && t <= c.last + dedup_ms) hit[hits++] = i;
    if (c.first > t + dedup_ms) break;  // sorted by first: no later crossing can touch t
  }
  if (hits == 0) {
    const Crossing c{t, t, tp};
    items_.insert(std::upper_bound(items_.begin(), items_.end(), c, before), c);
    return Change::changed;
  }
  Crossing& a = items_[hit[0]];
  if (hits == 1) {
    if (t >= a.first && t <= a.last) return Change::none;
    if (t > a.last) {
      a.last = t;
      return Change::last_extended;
    }
    a.first = t;
    // A new first time can move the crossing earlier past crossings of other mats.
    std::sort(items_.begin(), items_.end(), before);
    return Change::changed;
  }
  // The read bridges two crossings: join them.
  const Crossing& b = items_[hit[1]];
  a.first = std::min({a.first, b.first, t});
  a.last = std::max({a.last, b.last, t});
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(hit[1]));
  std::sort(items_.begin(), items_.end(), before);
  return Change::changed;
}

}  // namespace splitstream
