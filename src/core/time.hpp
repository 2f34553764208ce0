// Time as Unix epoch milliseconds (UTC), and ISO 8601 parsing/formatting with UTC offsets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace splitstream {

using TimeMs = std::int64_t;      // milliseconds since 1970-01-01T00:00:00Z
using DurationMs = std::int64_t;  // milliseconds
inline constexpr TimeMs kNoTime = INT64_MIN;

// The system clock now. For the shells (sessions, logs); the engine never reads a clock, its
// time comes with the reads.
TimeMs wall_clock_now();

// Parses "2025-04-06T08:03:12.250+09:00", "...Z", with 0-9 fraction digits (kept to the ms,
// truncated). An offset is required unless `default_offset_minutes` is given.
std::optional<TimeMs> parse_iso8601(std::string_view text,
                                    std::optional<int> default_offset_minutes = std::nullopt);
// Parses a UTC offset "+09:00", "-0530", "Z" into minutes east of UTC.
std::optional<int> parse_utc_offset(std::string_view text);
// Formats as "2025-04-06T08:03:12.250+09:00" in the given offset.
std::string format_iso8601(TimeMs t, int offset_minutes);
// Formats a duration as "2:12:11.000" (hours unpadded), negative with a leading '-'.
std::string format_duration(DurationMs d);
// Civil date of `t` at the offset: {year, month, day}.
struct CivilDate {
  int year;
  unsigned month;
  unsigned day;
};
CivilDate civil_date(TimeMs t, int offset_minutes);
std::int64_t days_from_civil(int year, unsigned month, unsigned day);

}  // namespace splitstream
