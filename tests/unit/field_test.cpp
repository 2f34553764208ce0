// The simulator's generated field and events: who runs which race, waves, the city marathon's
// mats, and that what is written loads back as the same event.
#include "synth/field.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "model/event_loader.hpp"
#include "synth/synthetic_race.hpp"

namespace splitstream {
namespace {

const std::string kDemoDir = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";

const Event& demo_event() {
  static const LoadedEvent loaded = load_event_dir(kDemoDir);
  return loaded.event;
}

std::map<RaceIndex, std::size_t> runners_per_race(const std::vector<Participant>& field) {
  std::map<RaceIndex, std::size_t> n;
  for (const Participant& p : field)
    ++n[p.race];
  return n;
}

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("splitstream-field-test-" + std::to_string(::getpid()) + "-" +
               std::to_string(counter_++))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(GenerateField, SharesSplitTheFieldExactly) {
  FieldOptions options;
  options.runners = 1000;
  options.race_shares = {4, 3, 2, 1};
  const auto field = generate_field(demo_event(), options);
  ASSERT_EQ(field.size(), 1000u);
  EXPECT_EQ(runners_per_race(field),
            (std::map<RaceIndex, std::size_t>{{0, 400}, {1, 300}, {2, 200}, {3, 100}}));
  // Remainders: 7 over three equal shares is 2.33 each; the first race gets the odd one.
  options.runners = 7;
  options.race_shares = {1, 1, 1, 0};
  EXPECT_EQ(runners_per_race(generate_field(demo_event(), options)),
            (std::map<RaceIndex, std::size_t>{{0, 3}, {1, 2}, {2, 2}}));
}

TEST(GenerateField, ByDefaultLongerRacesDrawMoreRunners) {
  // Shares by the square root of the distance: 205.4, 145.3, 100 and 70.7 of 521.4, so
  // 393.99, 278.59, 191.80 and 135.62 of 1000; the three largest remainders round up.
  FieldOptions options;
  options.runners = 1000;
  EXPECT_EQ(runners_per_race(generate_field(demo_event(), options)),
            (std::map<RaceIndex, std::size_t>{{0, 394}, {1, 278}, {2, 192}, {3, 136}}));
}

TEST(GenerateField, BibsChipsElitesAndWaves) {
  FieldOptions options;
  options.runners = 1000;
  options.race_shares = {4, 3, 2, 1};
  const auto field = generate_field(demo_event(), options);
  EXPECT_EQ(field.front().bib, "1");
  EXPECT_EQ(field.front().chips, std::vector<std::string>{"SS0000000001"});
  EXPECT_EQ(field.back().bib, "1000");
  EXPECT_EQ(field.back().chips, std::vector<std::string>{"SS0000001000"});
  // The half (race 1: bibs 401-700) has waves A and B: its first ten are its elites, in A;
  // then A and B take 150 runners each.
  std::size_t in_a = 0, in_b = 0, elites = 0;
  for (std::size_t i = 400; i < 700; ++i) {
    const Participant& p = field[i];
    ASSERT_EQ(p.race, 1u);
    (p.wave == 0 ? in_a : in_b) += 1;
    if (p.category == "Elite") {
      ++elites;
      EXPECT_LT(i, 410u);
      EXPECT_EQ(p.wave, 0u);
    }
  }
  EXPECT_EQ(in_a, 150u);
  EXPECT_EQ(in_b, 150u);
  EXPECT_EQ(elites, 10u);
  // Races without waves start on their gun; ages within 16 to 84 on race day.
  for (const Participant& p : field) {
    if (p.race != 1) {
      EXPECT_EQ(p.wave, kNoIndex);
    }
    EXPECT_GE(2025 - p.birth_year, 16);
    EXPECT_LE(2025 - p.birth_year, 84);
    EXPECT_FALSE(p.first_name.empty());
    EXPECT_FALSE(p.last_name.empty());
    EXPECT_EQ(p.country.size(), 3u);
  }
}

TEST(GenerateField, TheSameSeedGivesTheSameField) {
  FieldOptions options;
  options.runners = 300;
  const auto a = participants_csv(demo_event(), generate_field(demo_event(), options));
  EXPECT_EQ(a, participants_csv(demo_event(), generate_field(demo_event(), options)));
  options.seed = 2;
  EXPECT_NE(a, participants_csv(demo_event(), generate_field(demo_event(), options)));
}

TEST(GenerateField, SharesThatDoNotFitTheRacesAreRefused) {
  FieldOptions options;
  options.race_shares = {1, 2};
  EXPECT_THROW(generate_field(demo_event(), options), std::invalid_argument);
  options.race_shares = {0, 0, 0, 0};
  EXPECT_THROW(generate_field(demo_event(), options), std::invalid_argument);
  options.race_shares = {1, -1, 0, 0};
  EXPECT_THROW(generate_field(demo_event(), options), std::invalid_argument);
}

TEST(CityMarathon, TwelveMatsWhereBigCityMarathonsPutThem) {
  const Event event = make_city_marathon({});
  ASSERT_EQ(event.races.size(), 1u);
  const Race& race = event.races.front();
  std::vector<double> at;
  std::vector<std::string> ids;
  for (const Split& s : race.splits) {
    at.push_back(s.distance_m);
    ids.push_back(s.id);
  }
  EXPECT_EQ(at, (std::vector<double>{0, 5000, 10000, 15000, 20000, 21097.5, 25000, 30000, 35000,
                                     40000, 41195, 42195}));
  EXPECT_EQ(ids, (std::vector<std::string>{"start", "km5", "km10", "km15", "km20", "half", "km25",
                                           "km30", "km35", "km40", "km41.2", "finish"}));
  EXPECT_EQ(event.timing_points.size(), 12u);
  EXPECT_EQ(event.devices.size(), 24u);
  EXPECT_EQ(race.start().read_rule, ReadRule::last);
  EXPECT_EQ(race.finish().read_rule, ReadRule::first);
  // Four waves, ten minutes apart from 08:00 (+09:00).
  ASSERT_EQ(race.waves.size(), 4u);
  EXPECT_EQ(race.waves[0].id, "A");
  EXPECT_EQ(race.waves[3].id, "D");
  EXPECT_EQ(race.waves[3].gun_time - race.waves[0].gun_time, 30 * 60'000);
  // The line is the race's distance (plus 10 m) and each mat sits on it.
  EXPECT_NEAR(race.course.length_m(), 42205, 1);
  for (const Split& s : race.splits)
    EXPECT_LT(race.course
                  .project(event.timing_points[s.timing_point].position, s.distance_m - 50,
                           s.distance_m + 50)
                  .offset_m,
              1.0);
  // Other counts spread the mats evenly.
  CityMarathonOptions five;
  five.timing_points = 5;
  five.waves = 0;
  const Event even = make_city_marathon(five);
  EXPECT_DOUBLE_EQ(even.races.front().splits[2].distance_m, 42195 / 2.0);
  EXPECT_TRUE(even.races.front().waves.empty());
  five.timing_points = 1;
  EXPECT_THROW(make_city_marathon(five), std::invalid_argument);
}

TEST(CityMarathon, WrittenItLoadsBackAsTheSameEvent) {
  Event event = make_city_marathon({});
  FieldOptions options;
  options.runners = 2000;
  event.participants = generate_field(event, options);
  TempDir dir;
  dir.write("event.json", event_json(event, {"courses/marathon.geojson"}));
  dir.write("courses/marathon.geojson", course_geojson(event.races.front()));
  dir.write("participants.csv", participants_csv(event, event.participants));
  const LoadedEvent loaded = load_event_dir(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.problems.front().to_string();
  const Event& back = loaded.event;
  EXPECT_EQ(back.id, "city-marathon");
  EXPECT_EQ(back.utc_offset_minutes, 540);
  ASSERT_EQ(back.participants.size(), 2000u);
  for (std::size_t i = 0; i < event.participants.size(); ++i) {
    const Participant& a = event.participants[i];
    const Participant& b = back.participants[i];
    EXPECT_EQ(a.bib, b.bib);
    EXPECT_EQ(a.chips, b.chips);
    EXPECT_EQ(a.wave, b.wave);
    EXPECT_EQ(a.gender, b.gender);
    EXPECT_EQ(a.birth_year, b.birth_year);
    EXPECT_EQ(a.category, b.category);  // "Elite" as written, age groups derived again
    EXPECT_EQ(a.display_name(), b.display_name());
  }
  EXPECT_EQ(back.races.front().waves[2].gun_time, event.races.front().waves[2].gun_time);
}

TEST(EventJson, TheDemoEventWrittenLoadsBackWithTheSameRules) {
  const Event& event = demo_event();
  TempDir dir;
  std::vector<std::string> courses;
  for (const Race& race : event.races) {
    courses.push_back("courses/" + race.id + ".geojson");
    dir.write(courses.back(), course_geojson(race));
  }
  dir.write("event.json", event_json(event, courses));
  dir.write("participants.csv", participants_csv(event, event.participants));
  const LoadedEvent loaded = load_event_dir(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.problems.front().to_string();
  const Event& back = loaded.event;
  ASSERT_EQ(back.timing_points.size(), event.timing_points.size());
  for (std::size_t i = 0; i < event.timing_points.size(); ++i) {
    EXPECT_EQ(back.timing_points[i].id, event.timing_points[i].id);
    EXPECT_EQ(back.timing_points[i].dedup_ms, event.timing_points[i].dedup_ms);
    EXPECT_EQ(back.timing_points[i].read_rule, event.timing_points[i].read_rule);
  }
  ASSERT_EQ(back.races.size(), event.races.size());
  for (std::size_t r = 0; r < event.races.size(); ++r) {
    const Race& a = event.races[r];
    const Race& b = back.races[r];
    EXPECT_EQ(b.gun_time, a.gun_time);
    EXPECT_EQ(b.rank_by, a.rank_by);
    EXPECT_EQ(b.course.laps(), a.course.laps());
    EXPECT_NEAR(b.course.length_m(), a.course.length_m(), 1);
    ASSERT_EQ(b.splits.size(), a.splits.size());
    for (std::size_t s = 0; s < a.splits.size(); ++s) {
      EXPECT_EQ(b.splits[s].id, a.splits[s].id);
      EXPECT_EQ(b.splits[s].timing_point, a.splits[s].timing_point);
      EXPECT_EQ(b.splits[s].distance_m, a.splits[s].distance_m);
      EXPECT_EQ(b.splits[s].read_rule, a.splits[s].read_rule);
    }
    ASSERT_EQ(b.waves.size(), a.waves.size());
    for (std::size_t w = 0; w < a.waves.size(); ++w)
      EXPECT_EQ(b.waves[w].gun_time, a.waves[w].gun_time);
  }
  ASSERT_EQ(back.devices.size(), event.devices.size());
  EXPECT_EQ(back.devices[1].line, Line::backup);
  EXPECT_EQ(back.participants.size(), event.participants.size());
  EXPECT_EQ(back.landmarks.size(), event.landmarks.size());
}

TEST(SeededWaves, EarlierWavesRunFaster) {
  Event event = make_city_marathon({});
  FieldOptions field;
  field.runners = 4000;
  event.participants = generate_field(event, field);
  SynthOptions options;
  options.seeded_waves = true;
  options.dnf_rate = 0;
  options.dns_rate = 0;
  options.capture_rate = 1;
  options.max_raw_reads = 1;
  const auto reads = synthesize_reads(event, options);
  // Median net time from each wave's gun to the first finish read, per wave.
  const Race& race = event.races.front();
  std::vector<std::vector<TimeMs>> times(race.waves.size());
  std::map<std::string, TimeMs> finish;
  for (const FileRead& r : reads)
    if (r.timing_point == race.finish().timing_point) finish.emplace(r.chip, r.time);
  for (const Participant& p : event.participants)
    if (auto it = finish.find(p.chips.front()); it != finish.end())
      times[p.wave].push_back(it->second - race.waves[p.wave].gun_time);
  std::vector<TimeMs> medians;
  for (auto& t : times) {
    ASSERT_FALSE(t.empty());
    std::sort(t.begin(), t.end());
    medians.push_back(t[t.size() / 2]);
  }
  for (std::size_t w = 1; w < medians.size(); ++w)
    EXPECT_LT(medians[w - 1], medians[w]) << "wave " << w;
  // About 20 minutes between waves around the 4:25 median (gun to finish, the walk to the
  // start mat included): the first wave about 4:00, the last beyond 5:00.
  EXPECT_LT(medians.front(), 4 * 3'600'000 + 10 * 60'000);
  EXPECT_GT(medians.back(), 5 * 3'600'000);
}

}  // namespace
}  // namespace splitstream
