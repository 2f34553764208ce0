#include "model/event.hpp"

#include <algorithm>

namespace splitstream {

std::uint32_t Race::wave_index(std::string_view wave_id) const {
  for (std::size_t i = 0; i < waves.size(); ++i) {
    if (waves[i].id == wave_id) return static_cast<std::uint32_t>(i);
  }
  return kNoIndex;
}

std::string Participant::display_name() const {
  // Results-list style, family name first in capitals: "PAK Kum Dong", "KIPCHOGE Eliud".
  std::string family = last_name;
  for (char& c : family) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (first_name.empty()) return family;
  if (family.empty()) return first_name;
  return family + " " + first_name;
}

void Event::reindex() {
  timing_point_by_id.clear();
  race_by_id.clear();
  device_by_id.clear();
  participant_by_bib.clear();
  participant_by_chip.clear();
  for (std::size_t i = 0; i < timing_points.size(); ++i) {
    timing_point_by_id.emplace(timing_points[i].id, static_cast<TimingPointIndex>(i));
  }
  for (std::size_t i = 0; i < races.size(); ++i) {
    Race& race = races[i];
    race_by_id.emplace(race.id, static_cast<RaceIndex>(i));
    race.timing_points.clear();
    for (const Split& s : race.splits) {
      if (std::find(race.timing_points.begin(), race.timing_points.end(), s.timing_point) ==
          race.timing_points.end()) {
        race.timing_points.push_back(s.timing_point);
      }
    }
  }
  for (std::size_t i = 0; i < devices.size(); ++i) {
    device_by_id.emplace(devices[i].id, static_cast<std::uint32_t>(i));
  }
  for (std::size_t i = 0; i < participants.size(); ++i) {
    participant_by_bib.emplace(participants[i].bib, static_cast<RunnerIndex>(i));
    for (const std::string& chip : participants[i].chips) {
      participant_by_chip.emplace(chip, static_cast<RunnerIndex>(i));
    }
  }
}

TimeMs Event::gun_time_of(const Participant& p) const {
  const Race& race = races[p.race];
  return p.wave != kNoIndex ? race.waves[p.wave].gun_time : race.gun_time;
}

const Race* Event::find_race(std::string_view race_id) const {
  auto it = race_by_id.find(std::string(race_id));
  return it == race_by_id.end() ? nullptr : &races[it->second];
}

std::optional<TimingPointIndex> Event::find_timing_point(std::string_view tp_id) const {
  auto it = timing_point_by_id.find(std::string(tp_id));
  if (it == timing_point_by_id.end()) return std::nullopt;
  return it->second;
}

const Participant* Event::find_bib(std::string_view bib) const {
  auto it = participant_by_bib.find(std::string(bib));
  return it == participant_by_bib.end() ? nullptr : &participants[it->second];
}

std::string_view to_string(ReadRule r) {
  return r == ReadRule::first ? "first" : "last";
}
std::string_view to_string(RankBy r) {
  return r == RankBy::gun ? "gun" : "chip";
}
std::string_view to_string(Gender g) {
  switch (g) {
    case Gender::male:
      return "M";
    case Gender::female:
      return "F";
    case Gender::other:
      return "X";
  }
  return "X";
}
std::string_view to_string(Line l) {
  switch (l) {
    case Line::main:
      return "main";
    case Line::backup:
      return "backup";
    case Line::unspecified:
      return "";
  }
  return "";
}

std::optional<ReadRule> parse_read_rule(std::string_view s) {
  if (s == "first") return ReadRule::first;
  if (s == "last") return ReadRule::last;
  return std::nullopt;
}
std::optional<RankBy> parse_rank_by(std::string_view s) {
  if (s == "gun") return RankBy::gun;
  if (s == "chip") return RankBy::chip;
  return std::nullopt;
}
std::optional<Gender> parse_gender(std::string_view s) {
  if (s == "M" || s == "m") return Gender::male;
  if (s == "F" || s == "f" || s == "W" || s == "w") return Gender::female;
  if (s == "X" || s == "x") return Gender::other;
  return std::nullopt;
}
std::optional<Line> parse_line(std::string_view s) {
  if (s.empty()) return Line::unspecified;
  if (s == "main") return Line::main;
  if (s == "backup") return Line::backup;
  return std::nullopt;
}

std::optional<DurationMs> parse_cutoff(std::string_view s) {
  // Hours: one to three digits; then ":MM:SS".
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 3 || s.size() != colon + 6 ||
      s[colon + 3] != ':') {
    return std::nullopt;
  }
  auto digits = [&](std::size_t from, std::size_t count) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = from; i < from + count; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto h = digits(0, colon);
  const auto m = digits(colon + 1, 2);
  const auto sec = digits(colon + 4, 2);
  if (!h || !m || !sec || *m > 59 || *sec > 59) return std::nullopt;
  return ((static_cast<DurationMs>(*h) * 60 + *m) * 60 + *sec) * 1000;
}

std::vector<int> default_age_group_bounds() {
  return {0, 20, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80};
}

std::string age_group_label(Gender g, int age, const std::vector<int>& bounds) {
  std::string label(to_string(g));
  if (bounds.empty()) return label;
  std::size_t band = 0;
  while (band + 1 < bounds.size() && age >= bounds[band + 1])
    ++band;
  if (band == 0 && bounds.size() > 1) return label + "U" + std::to_string(bounds[1]);
  return label + std::to_string(bounds[band]);
}

}  // namespace splitstream
