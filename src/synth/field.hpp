// A generated field of runners for an event: how many run each race, who they are (gender,
// age, country, a name to search by) and which wave they start in. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/event.hpp"

namespace splitstream {

struct FieldOptions {
  std::size_t runners = 1000;
  std::uint64_t seed = 1;
  // Share of the field per race, in the event's race order; empty: by distance (longer races
  // draw more runners, as at a marathon weekend). Normalised; a zero leaves a race empty.
  std::vector<double> race_shares;
  // Runners per race who are elites (category "Elite", the front of the first wave).
  std::size_t elites_per_race = 10;
};

// A field for `event`'s races. Bibs run from 1 up within the whole field; each runner has one
// chip ("SS" and 10 digits from the bib). Within a race with waves, runners are seeded into the
// waves by their expected pace (elites and the fastest first, waves of equal size), which is what
// `SynthOptions::seeded_waves` reads back. Throws std::invalid_argument when the event has no
// race or the shares do not fit its races.
std::vector<Participant> generate_field(const Event& event, const FieldOptions& options);

// Participants in the format of an event directory's participants.csv.
std::string participants_csv(const Event& event, const std::vector<Participant>& participants);

// The event as an event directory's event.json, its races' courses named `course_files[i]`
// (relative paths, one per race). What `load_event_dir` reads back to the same event.
std::string event_json(const Event& event, const std::vector<std::string>& course_files);

// A race's course line as GeoJSON (one LineString feature, one lap).
std::string course_geojson(const Race& race);

// A big-city marathon that does not exist, for rehearsals and benchmarks: one marathon on a
// point-to-point course through Pyongyang's streets (generated, so only roughly street-shaped),
// `timing_points` mats (start, finish and splits between; 12 gives start, every 5 km, half
// way, 40 km, 41.2 km and the finish), a main and a backup line at each, `waves` waves 10
// minutes apart. No participants: `generate_field` makes them.
struct CityMarathonOptions {
  std::size_t timing_points = 12;
  std::size_t waves = 4;
};
Event make_city_marathon(const CityMarathonOptions& options);

}  // namespace splitstream
