// The crossings of one chip-holder: reads at one timing point chained together when closer than
// the mat's dedup time. Held as [first, last] intervals, which is exact for chain clustering, so
// the set of crossings depends only on the set of reads, never on their arrival order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/time.hpp"
#include "model/event.hpp"

namespace splitstream {

struct Crossing {
  TimeMs first = 0;  // earliest read of the crossing
  TimeMs last = 0;   // latest read of the crossing
  TimingPointIndex timing_point = kNoIndex;

  friend bool operator==(const Crossing&, const Crossing&) = default;
};

class CrossingSet {
 public:
  enum class Change : std::uint8_t {
    none,           // the read lies inside a crossing: a duplicate
    last_extended,  // only a crossing's last read moved later
    changed,        // a new crossing, an earlier first read, or two crossings joined
  };
  Change add(TimingPointIndex tp, TimeMs t, DurationMs dedup_ms);

  // Sorted by (first, timing point).
  std::span<const Crossing> items() const { return items_; }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }
  void reserve(std::size_t n) { items_.reserve(n); }

 private:
  std::vector<Crossing> items_;
};

}  // namespace splitstream
