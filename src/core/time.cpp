#include "core/time.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace splitstream {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

}  // namespace

TimeMs wall_clock_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Howard Hinnant's days_from_civil.
std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3u : 9u)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_date(TimeMs t, int offset_minutes) {
  const TimeMs local = t + static_cast<TimeMs>(offset_minutes) * 60'000;
  std::int64_t z = (local >= 0 ? local : local - 86'399'999) / 86'400'000 + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const auto y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
  return {y, m, d};
}

std::optional<int> parse_utc_offset(std::string_view s) {
  if (s == "Z" || s == "z") return 0;
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  int h = 0, m = 0;
  if (!digits(s, 1, 2, h)) return std::nullopt;
  if (s.size() == 6 && s[3] == ':') {
    if (!digits(s, 4, 2, m)) return std::nullopt;
  } else if (s.size() == 5) {
    if (!digits(s, 3, 2, m)) return std::nullopt;
  } else if (s.size() != 3) {
    return std::nullopt;
  }
  if (h > 18 || m > 59) return std::nullopt;
  const int total = h * 60 + m;
  return s[0] == '-' ? -total : total;
}

std::optional<TimeMs> parse_iso8601(std::string_view s, std::optional<int> default_offset) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 ||
      static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)) || h > 23 || mi > 59 ||
      sec > 59) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  int ms = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  std::optional<int> offset;
  if (pos == s.size()) {
    offset = default_offset;
  } else {
    offset = parse_utc_offset(s.substr(pos));
  }
  if (!offset) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t seconds = days * 86400 + h * 3600 + mi * 60 + sec - *offset * 60;
  return seconds * 1000 + ms;
}

std::string format_iso8601(TimeMs t, int offset_minutes) {
  const TimeMs local = t + static_cast<TimeMs>(offset_minutes) * 60'000;
  const CivilDate date = civil_date(t, offset_minutes);
  TimeMs in_day = local % 86'400'000;
  if (in_day < 0) in_day += 86'400'000;
  const int ms = static_cast<int>(in_day % 1000);
  const int total_s = static_cast<int>(in_day / 1000);
  const int abs_off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char buf[64];
  if (offset_minutes == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", date.year, date.month,
                  date.day, total_s / 3600, total_s / 60 % 60, total_s % 60, ms);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03d%c%02d:%02d", date.year,
                  date.month, date.day, total_s / 3600, total_s / 60 % 60, total_s % 60, ms,
                  offset_minutes < 0 ? '-' : '+', abs_off / 60, abs_off % 60);
  }
  return buf;
}

std::string format_duration(DurationMs d) {
  const bool negative = d < 0;
  const std::int64_t a = negative ? -d : d;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%lld:%02lld:%02lld.%03lld", negative ? "-" : "",
                static_cast<long long>(a / 3'600'000), static_cast<long long>(a / 60'000 % 60),
                static_cast<long long>(a / 1000 % 60), static_cast<long long>(a % 1000));
  return buf;
}

}  // namespace splitstream
