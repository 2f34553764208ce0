// Counts per wall-clock minute over the last 30 minutes, as a ring of 30 slots: adding is a slot
// check and an increment (no allocation), so it is cheap enough to bump for every stored batch.
// Minutes are whole UTC minutes (time_ms / 60000), the same on every node.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/time.hpp"

namespace splitstream {

class MinuteCounts {
 public:
  static constexpr std::size_t kMinutes = 30;
  using Series = std::array<std::uint64_t, kMinutes>;

  MinuteCounts();

  // Adds `n` to the minute of `now`. A slot last used 30 or more minutes ago starts again at 0.
  void add(TimeMs now, std::uint64_t n);
  // The counts of the 30 minutes up to the minute of `now`, oldest first: the last element is
  // the current minute, the first the minute 29 minutes before it. Minutes with nothing are 0.
  Series series(TimeMs now) const;

 private:
  std::array<std::uint32_t, kMinutes> counts_{};
  std::array<std::int64_t, kMinutes> minute_of_slot_{};  // -1: never used
};

// The whole UTC minute `t` lies in (floor, also before 1970).
std::int64_t minute_of(TimeMs t);

// A series taken at `taken_ms`, seen at `now`: moved left by the minutes in between, zeros
// appended for them (nothing was counted that the series could hold), all zeros after 30
// minutes. A `now` before `taken_ms` (another node's clock) leaves it as it is.
MinuteCounts::Series shift_series(const MinuteCounts::Series& series, TimeMs taken_ms, TimeMs now);

}  // namespace splitstream
