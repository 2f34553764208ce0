#include "synth/field.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "core/csv.hpp"
#include "core/time.hpp"
#include "synth/synthetic_race.hpp"

namespace splitstream {

namespace json = boost::json;

namespace {

// Given names by gender and family names: an international field at a marathon abroad.
constexpr std::array kMaleNames{"Chol",   "Kum Dong", "Song Jin", "James", "Daniel", "Lukas",
                                "Pierre", "Hiroshi",  "Wei",      "Lars",  "Marco",  "Pablo",
                                "Tom",    "Ivan",     "Ahmed",    "Kofi",  "Arjun",  "Sean"};
constexpr std::array kFemaleNames{"Un Ok",  "Su Gyong", "Hye Song", "Emma",   "Sophie", "Hannah",
                                  "Claire", "Yuki",     "Mei",      "Ingrid", "Giulia", "Lucia",
                                  "Kate",   "Olga",     "Amina",    "Ama",    "Priya",  "Aoife"};
constexpr std::array kFamilyNames{"Pak",     "Kim",    "Ri",     "Jo",     "Choe",   "Jon",
                                  "Smith",   "Brown",  "Muller", "Martin", "Tanaka", "Wang",
                                  "Larsson", "Rossi",  "Garcia", "Walsh",  "Petrov", "Mensah",
                                  "Sharma",  "Hassan", "Okafor", "Novak",  "Jansen", "Silva"};
struct CountryShare {
  const char* code;
  double weight;
};
constexpr std::array kCountries{
    CountryShare{"PRK", 30}, CountryShare{"CHN", 14}, CountryShare{"GBR", 9},
    CountryShare{"USA", 8},  CountryShare{"DEU", 7},  CountryShare{"FRA", 6},
    CountryShare{"AUS", 5},  CountryShare{"NLD", 4},  CountryShare{"SWE", 4},
    CountryShare{"CAN", 4},  CountryShare{"ITA", 3},  CountryShare{"ESP", 3},
    CountryShare{"JPN", 2},  CountryShare{"IRL", 1}};

const char* country(SplitMix64& rng) {
  double total = 0;
  for (const CountryShare& c : kCountries)
    total += c.weight;
  double pick = rng.uniform(0, total);
  for (const CountryShare& c : kCountries) {
    if (pick < c.weight) return c.code;
    pick -= c.weight;
  }
  return kCountries.back().code;
}

template <std::size_t N>
const char* pick(SplitMix64& rng, const std::array<const char*, N>& names) {
  return names[rng.below(N)];
}

// Largest remainder: `total` split by `shares`, exact.
std::vector<std::size_t> apportion(std::size_t total, const std::vector<double>& shares) {
  const double sum = std::accumulate(shares.begin(), shares.end(), 0.0);
  std::vector<std::size_t> counts(shares.size());
  std::vector<std::pair<double, std::size_t>> remainders;
  std::size_t given = 0;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    const double exact = static_cast<double>(total) * shares[i] / sum;
    counts[i] = static_cast<std::size_t>(std::floor(exact));
    given += counts[i];
    remainders.emplace_back(exact - std::floor(exact), i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < total; ++k, ++given)
    ++counts[remainders[k % remainders.size()].second];
  return counts;
}

std::string utc_offset_text(int minutes) {
  char text[16];
  const int m = std::abs(minutes) % (24 * 60);
  std::snprintf(text, sizeof text, "%c%02d:%02d", minutes < 0 ? '-' : '+', m / 60, m % 60);
  return text;
}

// Metres per degree at latitude `lat` (small distances).
constexpr double kMetresPerDegreeLat = 111'195.0;
double metres_per_degree_lon(double lat) {
  return kMetresPerDegreeLat * std::cos(lat * 3.14159265358979323846 / 180.0);
}

}  // namespace

std::vector<Participant> generate_field(const Event& event, const FieldOptions& options) {
  if (event.races.empty()) throw std::invalid_argument("the event has no race");
  std::vector<double> shares = options.race_shares;
  if (shares.empty()) {
    for (const Race& race : event.races)
      shares.push_back(std::sqrt(std::max(race.distance_m, 1.0)));
  }
  if (shares.size() != event.races.size())
    throw std::invalid_argument("race shares: " + std::to_string(shares.size()) + " given for " +
                                std::to_string(event.races.size()) + " races");
  if (std::any_of(shares.begin(), shares.end(), [](double s) { return !(s >= 0); }) ||
      std::accumulate(shares.begin(), shares.end(), 0.0) <= 0)
    throw std::invalid_argument("race shares must be zero or more, and not all zero");
  const std::vector<std::size_t> per_race = apportion(options.runners, shares);

  SplitMix64 rng(options.seed);
  std::vector<Participant> field;
  field.reserve(options.runners);
  for (std::size_t r = 0; r < event.races.size(); ++r) {
    const Race& race = event.races[r];
    const std::size_t n = per_race[r];
    const std::size_t elites = std::min(options.elites_per_race, n / 10);
    const std::size_t waves = race.waves.size();
    for (std::size_t i = 0; i < n; ++i) {
      Participant p;
      p.bib = std::to_string(field.size() + 1);
      char chip[16];
      std::snprintf(chip, sizeof chip, "SS%010zu", field.size() + 1);
      p.chips.push_back(chip);
      p.race = static_cast<RaceIndex>(r);
      const bool elite = i < elites;
      const double g = rng.uniform();
      if (elite) {
        p.gender = i % 2 == 0 ? Gender::male : Gender::female;
      } else {
        p.gender = g < 0.58 ? Gender::male : g < 0.99 ? Gender::female : Gender::other;
      }
      const double age =
          elite ? rng.uniform(22, 34) : std::clamp(39 + 11 * rng.normal(), 16.0, 84.0);
      p.birth_year = event.year - static_cast<int>(age);
      p.first_name = p.gender == Gender::female ? pick(rng, kFemaleNames)
                     : p.gender == Gender::male ? pick(rng, kMaleNames)
                     : rng.uniform() < 0.5      ? pick(rng, kFemaleNames)
                                                : pick(rng, kMaleNames);
      p.last_name = pick(rng, kFamilyNames);
      p.country = elite && rng.uniform() < 0.6 ? "PRK" : country(rng);
      if (elite) {
        p.category = "Elite";
      } else {
        p.category = age_group_label(p.gender, event.year - p.birth_year, event.age_group_bounds);
      }
      // Seeded into waves by expected pace: the elites and the fastest in the first wave, then
      // waves of equal size (the pace itself comes from the wave, see SynthOptions).
      if (waves > 0) p.wave = static_cast<std::uint32_t>(std::min(waves - 1, i * waves / n));
      field.push_back(std::move(p));
    }
  }
  return field;
}

std::string participants_csv(const Event& event, const std::vector<Participant>& participants) {
  std::string out = "bib,chip,first_name,last_name,gender,birth_year,country,race,wave,category\n";
  for (const Participant& p : participants) {
    const Race& race = event.races.at(p.race);
    out += csv_escape(p.bib);
    out += ',';
    out += csv_escape(p.chips.empty() ? "" : p.chips.front());
    out += ',';
    out += csv_escape(p.first_name);
    out += ',';
    out += csv_escape(p.last_name);
    out += ',';
    out += to_string(p.gender);
    out += ',';
    if (p.birth_year > 0) out += std::to_string(p.birth_year);
    out += ',';
    out += csv_escape(p.country);
    out += ',';
    out += csv_escape(race.id);
    out += ',';
    if (p.wave != kNoIndex) out += csv_escape(race.waves.at(p.wave).id);
    out += ',';
    // A derived age group is left for the loader to derive again.
    if (p.category == "Elite") out += "Elite";
    out += '\n';
  }
  return out;
}

std::string event_json(const Event& event, const std::vector<std::string>& course_files) {
  if (course_files.size() != event.races.size())
    throw std::invalid_argument("event_json: one course file per race");
  const int offset = event.utc_offset_minutes;
  json::object root;
  root["id"] = event.id;
  root["name"] = event.name;
  root["timezone"] = utc_offset_text(offset);
  root["year"] = event.year;
  root["max_speed_mps"] = event.max_speed_mps;
  json::array groups;
  for (int b : event.age_group_bounds)
    groups.push_back(b);
  root["age_groups"] = std::move(groups);
  json::array landmarks;
  for (const Landmark& l : event.landmarks)
    landmarks.push_back(
        json::object{{"name", l.name}, {"lat", l.position.lat}, {"lon", l.position.lon}});
  root["landmarks"] = std::move(landmarks);
  json::array points;
  for (const TimingPoint& tp : event.timing_points) {
    json::object o{{"id", tp.id},
                   {"name", tp.name},
                   {"lat", tp.position.lat},
                   {"lon", tp.position.lon},
                   {"dedup_s", static_cast<double>(tp.dedup_ms) / 1000.0}};
    if (tp.read_rule) o["read_rule"] = to_string(*tp.read_rule);
    points.push_back(std::move(o));
  }
  root["timing_points"] = std::move(points);
  json::array races;
  for (std::size_t r = 0; r < event.races.size(); ++r) {
    const Race& race = event.races[r];
    json::object o{{"id", race.id},
                   {"name", race.name},
                   {"distance_m", race.distance_m},
                   {"gun_time", format_iso8601(race.gun_time, offset)},
                   {"rank_by", to_string(race.rank_by)},
                   {"course", course_files[r]},
                   {"laps", race.course.laps()},
                   {"max_speed_mps", race.max_speed_mps}};
    json::array splits;
    for (const Split& s : race.splits)
      splits.push_back(json::object{{"id", s.id},
                                    {"timing_point", event.timing_points.at(s.timing_point).id},
                                    {"distance_m", s.distance_m},
                                    {"read_rule", to_string(s.read_rule)}});
    o["splits"] = std::move(splits);
    if (!race.waves.empty()) {
      json::array waves;
      for (const Wave& w : race.waves)
        waves.push_back(
            json::object{{"id", w.id}, {"gun_time", format_iso8601(w.gun_time, offset)}});
      o["waves"] = std::move(waves);
    }
    races.push_back(std::move(o));
  }
  root["races"] = std::move(races);
  json::array devices;
  for (const Device& d : event.devices) {
    json::object o{{"id", d.id}, {"timing_point", event.timing_points.at(d.timing_point).id}};
    if (d.line != Line::unspecified) o["line"] = to_string(d.line);
    devices.push_back(std::move(o));
  }
  root["devices"] = std::move(devices);
  return json::serialize(root) + "\n";
}

std::string course_geojson(const Race& race) {
  std::string out =
      "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\",\n"
      " \"properties\": {\"name\": " +
      json::serialize(json::string(race.name)) +
      "},\n \"geometry\": {\"type\": \"LineString\", \"coordinates\": [\n";
  const auto& points = race.course.points();
  for (std::size_t i = 0; i < points.size(); ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "  [%.6f, %.6f]%s\n", points[i].lon, points[i].lat,
                  i + 1 < points.size() ? "," : "");
    out += line;
  }
  out += "]}}]}\n";
  return out;
}

Event make_city_marathon(const CityMarathonOptions& options) {
  if (options.timing_points < 2 || options.timing_points > 50)
    throw std::invalid_argument("a city marathon has 2 to 50 timing points");
  if (options.waves > 20) throw std::invalid_argument("at most 20 waves");
  constexpr double kDistance = 42195;
  Event event;
  event.id = "city-marathon";
  event.name = "Splitstream City Marathon (generated)";
  event.utc_offset_minutes = 9 * 60;
  event.year = 2025;
  event.age_group_bounds = default_age_group_bounds();
  event.landmarks.push_back({"Kim Il Sung Stadium", {39.0437, 125.7577}});

  // A course through a street grid: legs along the grid, turning left or right in a fixed
  // pattern, drawn every 100 m and ending exactly at the marathon distance (plus 10 m, inside
  // the loader's tolerance, so the finish mat sits on the line).
  const GeoPoint start{39.0437, 125.7577};
  constexpr double kLineLength = kDistance + 10;
  constexpr std::array<double, 12> kLegs{1800, 1200, 2600, 900,  3100, 1500,
                                         2200, 1000, 2800, 1300, 1700, 2400};
  constexpr std::array<int, 12> kTurns{+1, +1, -1, -1, +1, -1, -1, +1, +1, -1, +1, -1};
  std::vector<std::pair<double, double>> metres{{0, 0}};  // east, north of the start
  double x = 0, y = 0, covered = 0;
  int heading = 0;  // 0 north, 1 east, 2 south, 3 west
  for (std::size_t leg = 0; covered < kLineLength; ++leg) {
    const double length = std::min(kLegs[leg % kLegs.size()], kLineLength - covered);
    for (double done = 0; done < length;) {
      const double step = std::min(100.0, length - done);
      x += step * (heading == 1 ? 1 : heading == 3 ? -1 : 0);
      y += step * (heading == 0 ? 1 : heading == 2 ? -1 : 0);
      done += step;
      metres.emplace_back(x, y);
    }
    covered += length;
    heading = (heading + 4 + kTurns[leg % kTurns.size()]) % 4;
  }
  // Degrees from metres, scaled so that the geodesic length is the one wanted.
  auto to_course = [&](double scale) {
    std::vector<GeoPoint> line;
    for (const auto& [east, north] : metres)
      line.push_back({start.lat + north * scale / kMetresPerDegreeLat,
                      start.lon + east * scale / metres_per_degree_lon(start.lat)});
    return Course(std::move(line), 1);
  };
  Course course = to_course(1.0);
  course = to_course(kLineLength / course.length_m());

  Race race;
  race.id = "marathon";
  race.name = "Marathon";
  race.distance_m = kDistance;
  race.gun_time = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
  race.course = std::move(course);
  for (std::size_t w = 0; w < options.waves; ++w)
    race.waves.push_back({std::string(1, static_cast<char>('A' + w)),
                          race.gun_time + static_cast<TimeMs>(w) * 10 * 60'000});

  // Where the mats lie: the usual places when there are 12, else evenly spread.
  std::vector<double> at;
  if (options.timing_points == 12) {
    at = {0, 5000, 10000, 15000, 20000, kDistance / 2, 25000, 30000, 35000, 40000, 41195};
  } else {
    for (std::size_t i = 0; i + 1 < options.timing_points; ++i)
      at.push_back(kDistance * static_cast<double>(i) /
                   static_cast<double>(options.timing_points - 1));
  }
  at.push_back(kDistance);
  for (std::size_t i = 0; i < at.size(); ++i) {
    const bool first = i == 0, last = i + 1 == at.size();
    const bool half = std::abs(at[i] - kDistance / 2) < 1;
    char km[32];
    std::snprintf(km, sizeof km, "%g", std::round(at[i] / 100.0) / 10.0);
    TimingPoint tp;
    tp.id = first ? "start" : last ? "finish" : half ? "half" : std::string("km") + km;
    tp.name = first ? "Start" : last ? "Finish" : half ? "Half way" : std::string(km) + " km";
    tp.position = race.course.point_at(at[i]);
    const auto tpi = static_cast<TimingPointIndex>(event.timing_points.size());
    race.splits.push_back(
        {tp.id, tpi, at[i], first ? ReadRule::last : ReadRule::first, std::nullopt});
    event.devices.push_back({tp.id + "-main", tpi, Line::main});
    event.devices.push_back({tp.id + "-backup", tpi, Line::backup});
    event.timing_points.push_back(std::move(tp));
  }
  event.races.push_back(std::move(race));
  event.reindex();
  return event;
}

}  // namespace splitstream
