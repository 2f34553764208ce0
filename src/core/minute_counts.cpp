#include "core/minute_counts.hpp"

namespace splitstream {

std::int64_t minute_of(TimeMs t) {
  const std::int64_t minute = t / 60'000;
  return t % 60'000 < 0 ? minute - 1 : minute;
}

namespace {

std::size_t slot_of(std::int64_t minute) {
  const auto n = static_cast<std::int64_t>(MinuteCounts::kMinutes);
  return static_cast<std::size_t>(((minute % n) + n) % n);
}

}  // namespace

MinuteCounts::MinuteCounts() {
  minute_of_slot_.fill(-1);
}

void MinuteCounts::add(TimeMs now, std::uint64_t n) {
  const std::int64_t minute = minute_of(now);
  const std::size_t slot = slot_of(minute);
  if (minute_of_slot_[slot] != minute) {
    minute_of_slot_[slot] = minute;
    counts_[slot] = 0;
  }
  counts_[slot] += static_cast<std::uint32_t>(n);
}

MinuteCounts::Series MinuteCounts::series(TimeMs now) const {
  Series out{};
  const std::int64_t current = minute_of(now);
  for (std::size_t i = 0; i < kMinutes; ++i) {
    const std::int64_t minute = current - static_cast<std::int64_t>(kMinutes - 1 - i);
    const std::size_t slot = slot_of(minute);
    if (minute_of_slot_[slot] == minute) out[i] = counts_[slot];
  }
  return out;
}

MinuteCounts::Series shift_series(const MinuteCounts::Series& series, TimeMs taken_ms, TimeMs now) {
  const std::int64_t shift = minute_of(now) - minute_of(taken_ms);
  if (shift <= 0) return series;
  MinuteCounts::Series out{};
  if (shift >= static_cast<std::int64_t>(MinuteCounts::kMinutes)) return out;
  const auto by = static_cast<std::size_t>(shift);
  for (std::size_t i = 0; i + by < MinuteCounts::kMinutes; ++i)
    out[i] = series[i + by];
  return out;
}

}  // namespace splitstream
