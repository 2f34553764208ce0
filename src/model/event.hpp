// The event model: what a race directory declares, validated and indexed.
// Plain data, no I/O; `event_loader` builds it from files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/geo.hpp"
#include "core/time.hpp"

namespace splitstream {

enum class ReadRule : std::uint8_t { first, last };
enum class RankBy : std::uint8_t { gun, chip };
enum class Gender : std::uint8_t { male, female, other };
enum class Line : std::uint8_t { unspecified, main, backup };

using TimingPointIndex = std::uint32_t;
using RaceIndex = std::uint32_t;
using RunnerIndex = std::uint32_t;
inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFu;

struct Landmark {
  std::string name;
  GeoPoint position;
};

struct TimingPoint {
  std::string id;
  std::string name;
  GeoPoint position;
  std::optional<ReadRule> read_rule;  // overrides the default (last at the start, first elsewhere)
  DurationMs dedup_ms = 5000;         // reads of one chip at most this far apart are one crossing
};

struct Split {
  std::string id;
  TimingPointIndex timing_point = kNoIndex;
  double distance_m = 0;
  ReadRule read_rule = ReadRule::first;  // resolved: split override, timing point, then default
  // The cut-off: a runner must pass this split by this long after their wave's gun.
  std::optional<DurationMs> cutoff;
};

struct Wave {
  std::string id;
  TimeMs gun_time = 0;
};

struct Race {
  std::string id;
  std::string name;
  double distance_m = 0;
  TimeMs gun_time = 0;
  RankBy rank_by = RankBy::gun;
  Course course;
  std::vector<Split> splits;  // course order; [0] is the start, back() the finish
  std::vector<Wave> waves;
  double max_speed_mps = 10.0;
  std::vector<TimingPointIndex> timing_points;  // distinct timing points of the splits

  const Split& start() const { return splits.front(); }
  const Split& finish() const { return splits.back(); }
  std::uint32_t wave_index(std::string_view id) const;
};

struct Device {
  std::string id;
  TimingPointIndex timing_point = kNoIndex;
  Line line = Line::unspecified;
};

struct Participant {
  std::string bib;
  std::vector<std::string> chips;
  std::string first_name;
  std::string last_name;
  Gender gender = Gender::other;
  int birth_year = 0;  // 0: unknown
  std::string country;
  RaceIndex race = kNoIndex;
  std::uint32_t wave = kNoIndex;  // index into Race::waves, kNoIndex: the race gun
  std::string category;           // age group: the CSV column, else derived from birth year

  std::string display_name() const;
};

struct Event {
  std::string id;
  std::string name;
  int utc_offset_minutes = 0;
  int year = 0;  // the event's year, for age groups
  double max_speed_mps = 10.0;
  std::vector<int> age_group_bounds;
  std::vector<Landmark> landmarks;
  std::vector<TimingPoint> timing_points;
  std::vector<Race> races;
  std::vector<Device> devices;
  std::vector<Participant> participants;

  std::unordered_map<std::string, TimingPointIndex> timing_point_by_id;
  std::unordered_map<std::string, RaceIndex> race_by_id;
  std::unordered_map<std::string, std::uint32_t> device_by_id;
  std::unordered_map<std::string, RunnerIndex> participant_by_bib;
  std::unordered_map<std::string, RunnerIndex> participant_by_chip;

  // Rebuilds the lookup maps and derived fields after the vectors changed.
  void reindex();
  TimeMs gun_time_of(const Participant& p) const;
  const Race* find_race(std::string_view id) const;
  std::optional<TimingPointIndex> find_timing_point(std::string_view id) const;
  const Participant* find_bib(std::string_view bib) const;
};

std::string_view to_string(ReadRule r);
std::string_view to_string(RankBy r);
std::string_view to_string(Gender g);  // "M", "F", "X"
std::string_view to_string(Line l);
std::optional<ReadRule> parse_read_rule(std::string_view s);
std::optional<RankBy> parse_rank_by(std::string_view s);
std::optional<Gender> parse_gender(std::string_view s);
std::optional<Line> parse_line(std::string_view s);
// A cut-off "H:MM:SS" (hours unpadded, minutes and seconds two digits below 60) as a duration.
std::optional<DurationMs> parse_cutoff(std::string_view s);

// The default age-group lower bounds: under 20, 20-34, then five-year masters bands to 80+.
std::vector<int> default_age_group_bounds();
// "M35", "FU20", "X20": gender letter, then "U<next bound>" for the lowest band or the lower bound.
std::string age_group_label(Gender g, int age, const std::vector<int>& bounds);

}  // namespace splitstream
