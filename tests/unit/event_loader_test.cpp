#include "model/event_loader.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "core/geo.hpp"

using namespace splitstream;

namespace {

// Courses along the equator, where 0.01 degrees of longitude are 1113.19 m.
constexpr const char* kMainCourse =  // 2226.39 m
    R"({"type": "LineString", "coordinates": [[0, 0], [0.01, 0], [0.02, 0]]})";
constexpr const char* kShortCourse =  // 1113.19 m, as a Feature
    R"({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [0.01, 0]]}})";

// Line numbers are used by the tests below: keep the layout.
constexpr const char* kEventJson = R"json({
  "id": "test-event",
  "name": "Test Event",
  "timezone": "+09:00",
  "timing_points": [
    {"id": "start", "name": "Start Line", "lat": 0, "lon": 0},
    {"id": "mid", "lat": 0, "lon": 0.01, "read_rule": "last", "dedup_s": 2.5},
    {"id": "finish", "lat": 0, "lon": 0.02}
  ],
  "races": [
    {
      "id": "main",
      "name": "Main Race",
      "distance_m": 2226,
      "gun_time": "2025-04-06T08:00:00+09:00",
      "course": "main.geojson",
      "splits": [
        {"id": "start", "timing_point": "start", "distance_m": 0},
        {"id": "mid", "timing_point": "mid", "distance_m": 1113},
        {"id": "finish", "timing_point": "finish", "distance_m": 2226}
      ],
      "waves": [
        {"id": "A", "gun_time": "2025-04-06T08:00:00+09:00"},
        {"id": "B", "gun_time": "2025-04-06T08:10:00+09:00"}
      ]
    },
    {
      "id": "short",
      "distance_m": 1113,
      "gun_time": "2025-04-06T09:00:00+09:00",
      "rank_by": "chip",
      "course": "short.geojson",
      "splits": [
        {"id": "start", "timing_point": "start", "distance_m": 0},
        {"id": "finish", "timing_point": "mid", "distance_m": 1113, "read_rule": "first"}
      ]
    }
  ],
  "devices": [
    {"id": "dev-start", "timing_point": "start", "line": "main"},
    {"id": "dev-mid", "timing_point": "mid"}
  ]
}
)json";

constexpr const char* kHeader =
    "bib,chip,first_name,last_name,gender,birth_year,country,race,wave,"
    "category\n";
// Runners on lines 2-6.
constexpr const char* kRunners =
    "1,C1;C1b,Kum Dong,Pak,M,1990,PRK,main,A,\n"
    "2,C2,Yong,Kim,F,2008,PRK,main,B,\n"
    "3,C3,Jo,Doe,X,1940,USA,short,,\n"
    "4,C4,Ann,Lee,F,1985,KOR,short,,Elite\n"
    "5,C5,Bo,Ri,M,,PRK,main,,\n";

// 2025-04-06T08:00:00+09:00 = 2025-04-05T23:00Z; 20183 days from 1970-01-01 to 2025-04-05.
constexpr TimeMs kGun = 20183LL * 86'400'000 + 23LL * 3'600'000;
constexpr DurationMs kMinute = 60'000;

FileReader courses() {
  return [](std::string_view name) -> std::optional<std::string> {
    if (name == "main.geojson") return kMainCourse;
    if (name == "short.geojson") return kShortCourse;
    return std::nullopt;
  };
}

// `text` with `from` replaced by `to` on line `line` (1-based), which must hold it.
std::string edit_line(const std::string& text, std::size_t line, const std::string& from,
                      const std::string& to) {
  std::size_t start = 0;
  for (std::size_t l = 1; l < line; ++l)
    start = text.find('\n', start) + 1;
  const std::size_t end = text.find('\n', start);
  const std::size_t at = text.find(from, start);
  EXPECT_TRUE(at != std::string::npos && at < end) << "line " << line << " has no " << from;
  if (at == std::string::npos || at >= end) return text;
  return text.substr(0, at) + to + text.substr(at + from.size());
}

std::string describe(const Diagnostics& problems) {
  std::ostringstream out;
  for (const Diagnostic& d : problems)
    out << "\n  " << d.to_string();
  return out.str();
}

// Expects exactly one problem, with this file, line and field, whose message contains `text`.
void expect_only(const LoadedEvent& loaded, const std::string& file, std::size_t line,
                 const std::string& field, const std::string& text) {
  ASSERT_EQ(loaded.problems.size(), 1u) << describe(loaded.problems);
  const Diagnostic& d = loaded.problems[0];
  EXPECT_EQ(d.file, file);
  EXPECT_EQ(d.line, line);
  EXPECT_EQ(d.field, field);
  EXPECT_NE(d.message.find(text), std::string::npos) << d.to_string();
}

bool has(const Diagnostics& problems, const std::string& file, std::size_t line,
         const std::string& field, const std::string& text) {
  for (const Diagnostic& d : problems) {
    if (d.file == file && d.line == line && d.field == field &&
        d.message.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

LoadedEvent parse_json(const std::string& json) {
  return parse_event(json, kHeader, courses());  // no runners: only event.json problems
}

LoadedEvent parse_runners(const std::string& csv) {
  return parse_event(kEventJson, csv, courses());
}

}  // namespace

TEST(EventLoader, TheTestCoursesHaveTheExpectedLengths) {
  EXPECT_NEAR(geodesic_distance_m({0, 0}, {0, 0.02}), 2226.39, 0.01);
  EXPECT_NEAR(geodesic_distance_m({0, 0}, {0, 0.01}), 1113.19, 0.01);
}

TEST(EventLoader, LoadsAGoodEvent) {
  const LoadedEvent loaded = parse_runners(std::string(kHeader) + kRunners);
  ASSERT_TRUE(loaded.ok()) << describe(loaded.problems);
  const Event& e = loaded.event;
  EXPECT_EQ(e.id, "test-event");
  EXPECT_EQ(e.name, "Test Event");
  EXPECT_EQ(e.utc_offset_minutes, 540);
  EXPECT_EQ(e.year, 2025);  // from the first race's gun time
  EXPECT_EQ(e.max_speed_mps, 10.0);

  ASSERT_EQ(e.timing_points.size(), 3u);
  EXPECT_EQ(e.timing_points[0].name, "Start Line");
  EXPECT_EQ(e.timing_points[1].name, "mid");  // defaults to the id
  EXPECT_EQ(e.timing_points[0].dedup_ms, 5000);
  EXPECT_EQ(e.timing_points[1].dedup_ms, 2500);
  EXPECT_FALSE(e.timing_points[0].read_rule);
  EXPECT_EQ(e.timing_points[1].read_rule, ReadRule::last);
  EXPECT_DOUBLE_EQ(e.timing_points[2].position.lon, 0.02);

  ASSERT_EQ(e.races.size(), 2u);
  const Race& main = e.races[0];
  EXPECT_EQ(main.id, "main");
  EXPECT_EQ(main.name, "Main Race");
  EXPECT_EQ(main.distance_m, 2226);
  EXPECT_EQ(main.gun_time, kGun);
  EXPECT_EQ(main.rank_by, RankBy::gun);
  EXPECT_EQ(main.course.laps(), 1);
  EXPECT_NEAR(main.course.length_m(), 2226.39, 0.01);
  ASSERT_EQ(main.splits.size(), 3u);
  EXPECT_EQ(main.splits[0].id, "start");
  EXPECT_EQ(main.splits[1].timing_point, 1u);
  EXPECT_EQ(main.splits[2].distance_m, 2226);
  EXPECT_EQ(main.splits[0].read_rule, ReadRule::last);   // the start: last by default
  EXPECT_EQ(main.splits[1].read_rule, ReadRule::last);   // the timing point's rule
  EXPECT_EQ(main.splits[2].read_rule, ReadRule::first);  // elsewhere: first by default
  EXPECT_EQ(main.timing_points, (std::vector<TimingPointIndex>{0, 1, 2}));
  ASSERT_EQ(main.waves.size(), 2u);
  EXPECT_EQ(main.waves[0].id, "A");
  EXPECT_EQ(main.waves[0].gun_time, kGun);
  EXPECT_EQ(main.waves[1].gun_time, kGun + 10 * kMinute);

  const Race& short_race = e.races[1];
  EXPECT_EQ(short_race.name, "short");
  EXPECT_EQ(short_race.gun_time, kGun + 60 * kMinute);
  EXPECT_EQ(short_race.rank_by, RankBy::chip);
  EXPECT_NEAR(short_race.course.length_m(), 1113.19, 0.01);
  EXPECT_EQ(short_race.splits[0].read_rule, ReadRule::last);
  EXPECT_EQ(short_race.splits[1].read_rule, ReadRule::first);  // the split overrides "mid"
  EXPECT_EQ(short_race.timing_points, (std::vector<TimingPointIndex>{0, 1}));
  EXPECT_TRUE(short_race.waves.empty());

  ASSERT_EQ(e.devices.size(), 2u);
  EXPECT_EQ(e.devices[0].line, Line::main);
  EXPECT_EQ(e.devices[1].line, Line::unspecified);
  EXPECT_EQ(e.devices[1].timing_point, 1u);

  ASSERT_EQ(e.participants.size(), 5u);
  const Participant& pak = e.participants[0];
  EXPECT_EQ(pak.bib, "1");
  EXPECT_EQ(pak.chips, (std::vector<std::string>{"C1", "C1b"}));
  EXPECT_EQ(pak.first_name, "Kum Dong");
  EXPECT_EQ(pak.last_name, "Pak");
  EXPECT_EQ(pak.display_name(), "PAK Kum Dong");
  EXPECT_EQ(pak.gender, Gender::male);
  EXPECT_EQ(pak.birth_year, 1990);
  EXPECT_EQ(pak.country, "PRK");
  EXPECT_EQ(pak.race, 0u);
  EXPECT_EQ(pak.wave, 0u);
  EXPECT_EQ(pak.category, "M35");                 // 2025 - 1990 = 35
  EXPECT_EQ(e.participants[1].category, "FU20");  // 17
  EXPECT_EQ(e.participants[1].wave, 1u);
  EXPECT_EQ(e.participants[2].category, "X80");  // 85
  EXPECT_EQ(e.participants[2].race, 1u);
  EXPECT_EQ(e.participants[2].wave, kNoIndex);
  EXPECT_EQ(e.participants[3].category, "Elite");  // the column overrides F40
  EXPECT_EQ(e.participants[4].birth_year, 0);
  EXPECT_EQ(e.participants[4].category, "");  // no birth year, no age group
  EXPECT_EQ(e.gun_time_of(e.participants[0]), kGun);
  EXPECT_EQ(e.gun_time_of(e.participants[1]), kGun + 10 * kMinute);  // wave B
  EXPECT_EQ(e.gun_time_of(e.participants[2]), kGun + 60 * kMinute);  // the short race's gun
  EXPECT_EQ(e.gun_time_of(e.participants[4]), kGun);                 // main, no wave

  EXPECT_EQ(e.participant_by_bib.at("3"), 2u);
  EXPECT_EQ(e.participant_by_chip.at("C1"), 0u);
  EXPECT_EQ(e.participant_by_chip.at("C1b"), 0u);
  EXPECT_EQ(e.participant_by_chip.at("C5"), 4u);
  EXPECT_EQ(e.participant_by_chip.size(), 6u);
  EXPECT_EQ(e.race_by_id.at("short"), 1u);
  EXPECT_EQ(e.timing_point_by_id.at("finish"), 2u);
  EXPECT_EQ(e.device_by_id.at("dev-mid"), 1u);
  EXPECT_EQ(e.find_bib("4")->last_name, "Lee");
  EXPECT_EQ(e.find_bib("99"), nullptr);
  EXPECT_EQ(e.find_race("main"), &e.races[0]);
  EXPECT_EQ(e.find_timing_point("mid"), 1u);
}

TEST(EventLoader, YearAndAgeGroupsFromEventJson) {
  std::string json =
      edit_line(kEventJson, 4, "\"timezone\": \"+09:00\",",
                "\"timezone\": \"+09:00\", \"year\": 2030, \"age_groups\": [0, 40],");
  const LoadedEvent loaded = parse_runners(std::string(kHeader) + kRunners);
  const LoadedEvent custom = parse_event(json, std::string(kHeader) + kRunners, courses());
  ASSERT_TRUE(loaded.ok()) << describe(loaded.problems);
  ASSERT_TRUE(custom.ok()) << describe(custom.problems);
  EXPECT_EQ(custom.event.year, 2030);
  EXPECT_EQ(custom.event.participants[0].category, "M40");   // 40 years old in 2030
  EXPECT_EQ(custom.event.participants[1].category, "FU40");  // 22
  EXPECT_EQ(custom.event.participants[2].category, "X40");
}

// ---- event.json problems, one at a time ----

TEST(EventLoader, UnknownTimingPointInASplit) {
  const std::string json =
      edit_line(kEventJson, 19, "\"mid\", \"distance_m\"", "\"midd\", \"distance_m\"");
  expect_only(parse_json(json), "event.json", 19, "races[0].splits[1].timing_point",
              "unknown timing point \"midd\"");
}

TEST(EventLoader, SplitsOutOfOrder) {
  const std::string json = edit_line(kEventJson, 19, "1113", "2300");
  expect_only(parse_json(json), "event.json", 20, "races[0].splits[2].distance_m",
              "splits out of order: \"finish\" at 2226 m is not after \"mid\" at 2300 m");
}

TEST(EventLoader, FirstSplitNotAtZero) {
  const std::string json = edit_line(kEventJson, 18, "\"distance_m\": 0", "\"distance_m\": 5");
  expect_only(parse_json(json), "event.json", 18, "races[0].splits[0].distance_m",
              "must be at distance 0");
}

TEST(EventLoader, CutoffsAreDurationsAfterTheGun) {
  std::string json = edit_line(kEventJson, 19, "1113}", "1113, \"cutoff\": \"0:20:00\"}");
  json = edit_line(json, 20, "2226}", "2226, \"cutoff\": \"1:05:30\"}");
  const LoadedEvent loaded = parse_json(json);
  ASSERT_TRUE(loaded.ok()) << describe(loaded.problems);
  const Race& race = loaded.event.races[0];
  EXPECT_EQ(race.splits[0].cutoff, std::nullopt);
  EXPECT_EQ(race.splits[1].cutoff, 20 * kMinute);
  EXPECT_EQ(race.splits[2].cutoff, 65 * kMinute + 30'000);
}

TEST(EventLoader, BadCutoffs) {
  for (const char* bad : {"20:00", "0:00:00", "1:5:00", "1:60:00", "1:00:60", "1:00:00.5",
                          "-1:00:00", "1234:00:00", "h:00:00"}) {
    const std::string json =
        edit_line(kEventJson, 19, "1113}", std::string("1113, \"cutoff\": \"") + bad + "\"}");
    expect_only(parse_json(json), "event.json", 19, "races[0].splits[1].cutoff",
                std::string("bad cut-off \"") + bad +
                    "\" (H:MM:SS after the runner's wave gun, e.g. \"4:30:00\")");
  }
  expect_only(parse_json(edit_line(kEventJson, 19, "1113}", "1113, \"cutoff\": 1200}")),
              "event.json", 19, "races[0].splits[1].cutoff", "expected a string");
}

TEST(EventLoader, ALaterSplitCannotCloseBeforeAnEarlierOne) {
  std::string json = edit_line(kEventJson, 19, "1113}", "1113, \"cutoff\": \"0:30:00\"}");
  json = edit_line(json, 20, "2226}", "2226, \"cutoff\": \"0:20:00\"}");
  expect_only(parse_json(json), "event.json", 20, "races[0].splits[2].cutoff",
              "cut-off 0:20:00 at \"finish\" is before the cut-off 0:30:00 of the earlier split "
              "\"mid\"");
}

TEST(EventLoader, ParseCutoff) {
  EXPECT_EQ(parse_cutoff("4:30:00"), 16'200'000);
  EXPECT_EQ(parse_cutoff("0:00:01"), 1000);
  EXPECT_EQ(parse_cutoff("04:30:00"), 16'200'000);
  EXPECT_EQ(parse_cutoff("100:00:00"), 360'000'000);
  for (const char* bad : {"", "4:30", ":30:00", "4:30:0", "4:3:00", "4:30:00 ", "1000:00:00",
                          "4-30-00", "4:30:60", "+4:30:00"}) {
    EXPECT_EQ(parse_cutoff(bad), std::nullopt) << bad;
  }
}

TEST(EventLoader, CourseLengthOffTheDistance) {
  // 2226.39 m of course for a 2300 m race: 3.2% off.
  const std::string json = edit_line(kEventJson, 14, "2226", "2300");
  expect_only(parse_json(json), "event.json", 16, "races[0].course",
              "course length 2226 m (1 lap) is off the race distance 2300 m by more than 1%");
}

TEST(EventLoader, CourseLengthWithinOnePercentIsAccepted) {
  // 2245 m is 0.84% more than the 2226.39 m course.
  std::string json = edit_line(kEventJson, 14, "2226", "2245");
  json = edit_line(json, 20, "2226", "2245");
  const LoadedEvent loaded = parse_json(json);
  EXPECT_TRUE(loaded.ok()) << describe(loaded.problems);
}

TEST(EventLoader, SplitBeyondTheCourse) {
  // The race is 2240 m (within 1% of the course), but the finish split at 2250 m lies more than
  // 1% beyond the 2226.39 m line (2248.65 m).
  std::string json = edit_line(kEventJson, 14, "2226", "2240");
  json = edit_line(json, 20, "2226", "2250");
  expect_only(parse_json(json), "event.json", 20, "races[0].splits[2].distance_m",
              "split \"finish\" at 2250 m lies beyond the course (2226 m)");
}

TEST(EventLoader, FinishSplitShortOfTheCourseEnd) {
  // The race and its course are 2226 m, but the finish split is at 2150 m.
  const std::string json = edit_line(kEventJson, 20, "2226", "2150");
  const LoadedEvent loaded = parse_json(json);
  EXPECT_TRUE(has(loaded.problems, "event.json", 20, "races[0].splits[2].distance_m",
                  "the finish split is at 2150 m but the course is 2226 m long"))
      << describe(loaded.problems);
}

TEST(EventLoader, SplitFarFromItsTimingPoint) {
  // The finish mat moved 0.0015 deg (166.98 m) east of the end of the line; the course point at
  // 2226 m is 0.39 m before the end: 167.37 m from the mat.
  const std::string json = edit_line(kEventJson, 8, "0.02", "0.0215");
  expect_only(parse_json(json), "event.json", 20, "races[0].splits[2].distance_m",
              "the course at 2226 m is 167 m from timing point \"finish\"");
}

TEST(EventLoader, SplitWithinToleranceOfItsTimingPoint) {
  // 0.0013 deg is 144.7 m (+0.39 m): accepted.
  const std::string json = edit_line(kEventJson, 8, "0.02", "0.0213");
  const LoadedEvent loaded = parse_json(json);
  EXPECT_TRUE(loaded.ok()) << describe(loaded.problems);
}

TEST(EventLoader, GunTimeWithoutOffset) {
  const std::string json =
      edit_line(kEventJson, 15, "2025-04-06T08:00:00+09:00", "2025-04-06T08:00:00");
  expect_only(parse_json(json), "event.json", 15, "races[0].gun_time",
              "bad time \"2025-04-06T08:00:00\"");
}

TEST(EventLoader, RunnersOfARejectedRaceAreNotReportedOneByOne) {
  // "main" is left out for its bad gun time; its three runners are not three more problems,
  // but their rows are still checked.
  const std::string json =
      edit_line(kEventJson, 15, "2025-04-06T08:00:00+09:00", "2025-04-06T08:00:00");
  const LoadedEvent loaded = parse_event(
      json, std::string(kHeader) + kRunners + "6,C3,Dup,Chip,M,1980,PRK,main,,\n", courses());
  ASSERT_EQ(loaded.problems.size(), 2u) << describe(loaded.problems);
  EXPECT_TRUE(has(loaded.problems, "event.json", 15, "races[0].gun_time", "bad time"));
  EXPECT_TRUE(has(loaded.problems, "participants.csv", 7, "chip", "duplicate chip \"C3\""));
  ASSERT_EQ(loaded.event.races.size(), 1u);
  EXPECT_EQ(loaded.event.participants.size(), 2u);  // bibs 3 and 4, in "short"
  EXPECT_EQ(loaded.event.year, 2025);
}

TEST(EventLoader, BadWaveGunTime) {
  const std::string json =
      edit_line(kEventJson, 24, "2025-04-06T08:10:00+09:00", "2025-04-06T08:70:00+09:00");
  expect_only(parse_json(json), "event.json", 24, "races[0].waves[1].gun_time", "bad time");
}

TEST(EventLoader, BadTimezone) {
  const std::string json = edit_line(kEventJson, 4, "+09:00", "+9");
  expect_only(parse_json(json), "event.json", 4, "timezone", "bad UTC offset \"+9\"");
}

TEST(EventLoader, UnknownFieldInARace) {
  const std::string json = edit_line(kEventJson, 13, "\"name\"", "\"nmae\"");
  const LoadedEvent loaded = parse_json(json);
  expect_only(loaded, "event.json", 13, "races[0].nmae", "unknown field");
  ASSERT_EQ(loaded.event.races.size(), 2u);  // the race itself is still usable
  EXPECT_EQ(loaded.event.races[0].name, "main");
}

TEST(EventLoader, UnknownFieldAtTheTopAndInASplit) {
  std::string json = edit_line(kEventJson, 3, "\"name\"", "\"nane\"");
  json = edit_line(json, 35, "\"read_rule\"", "\"read-rule\"");
  const LoadedEvent loaded = parse_json(json);
  ASSERT_EQ(loaded.problems.size(), 3u) << describe(loaded.problems);
  EXPECT_TRUE(has(loaded.problems, "event.json", 3, "nane", "unknown field"));
  // A missing field is reported on the line of the object that lacks it.
  EXPECT_TRUE(has(loaded.problems, "event.json", 1, "name", "required field is missing"));
  EXPECT_TRUE(
      has(loaded.problems, "event.json", 35, "races[1].splits[1].read-rule", "unknown field"));
}

TEST(EventLoader, LapCourseNotClosed) {
  // Two laps of the straight 2226.39 m line: 4452.78 m, but its end is 2226 m from its start.
  std::string json =
      edit_line(kEventJson, 16, "\"main.geojson\",", "\"main.geojson\", \"laps\": 2,");
  json = edit_line(json, 14, "2226", "4453");
  json = edit_line(json, 20, "2226", "4453");
  expect_only(parse_json(json), "event.json", 16, "races[0].laps",
              "a lap course must be a closed loop, but its line ends 2226 m from where it starts");
}

TEST(EventLoader, BadLaps) {
  const std::string json =
      edit_line(kEventJson, 16, "\"main.geojson\",", "\"main.geojson\", \"laps\": 1.5,");
  expect_only(parse_json(json), "event.json", 16, "races[0].laps", "must be a whole number");
}

TEST(EventLoader, UnreadableCourseFile) {
  const std::string json = edit_line(kEventJson, 16, "main.geojson", "courses/missing.geojson");
  expect_only(parse_json(json), "event.json", 16, "races[0].course",
              "cannot read course file \"courses/missing.geojson\"");
}

TEST(EventLoader, BadCourseFile) {
  const LoadedEvent loaded =
      parse_event(kEventJson, kHeader, [](std::string_view name) -> std::optional<std::string> {
        if (name == "short.geojson") return kShortCourse;
        return R"({"type": "Point", "coordinates": [0, 0]})";
      });
  expect_only(loaded, "event.json", 16, "races[0].course", "main.geojson: no LineString");
}

TEST(EventLoader, InvalidJsonReportsTheLine) {
  // The comma after "Main Race" is missing: the parser notices at the next key, on line 14.
  const std::string json = edit_line(kEventJson, 13, "\"Main Race\",", "\"Main Race\"");
  const LoadedEvent loaded = parse_json(json);
  expect_only(loaded, "event.json", 14, "", "not valid JSON");
  EXPECT_TRUE(loaded.event.races.empty());
}

TEST(EventLoader, InvalidJsonLiteralReportsTheLine) {
  // Accepted by a lenient scan, rejected by Boost.JSON: the line must still be found.
  const std::string json = edit_line(kEventJson, 14, "2226", "2226m");
  expect_only(parse_json(json), "event.json", 14, "", "not valid JSON");
}

TEST(EventLoader, DuplicateIds) {
  std::string json =
      edit_line(kEventJson, 8, "0.02}", "0.02}, {\"id\": \"mid\", \"lat\": 1, \"lon\": 1}");
  json = edit_line(json, 28, "\"short\"", "\"main\"");
  json = edit_line(json, 41, "dev-mid", "dev-start");
  json = edit_line(json, 24, "\"B\"", "\"A\"");
  const LoadedEvent loaded = parse_json(json);
  EXPECT_TRUE(has(loaded.problems, "event.json", 8, "timing_points[3].id",
                  "duplicate timing point id \"mid\""))
      << describe(loaded.problems);
  EXPECT_TRUE(has(loaded.problems, "event.json", 28, "races[1].id", "duplicate race id \"main\""))
      << describe(loaded.problems);
  EXPECT_TRUE(
      has(loaded.problems, "event.json", 41, "devices[1].id", "duplicate device id \"dev-start\""))
      << describe(loaded.problems);
  EXPECT_TRUE(
      has(loaded.problems, "event.json", 24, "races[0].waves[1].id", "duplicate wave id \"A\""))
      << describe(loaded.problems);
}

TEST(EventLoader, UnknownTimingPointInADevice) {
  const std::string json = edit_line(kEventJson, 41, "\"mid\"", "\"middle\"");
  expect_only(parse_json(json), "event.json", 41, "devices[1].timing_point",
              "unknown timing point \"middle\"");
}

// ---- participants.csv problems, one at a time (the bad row is line 7) ----

TEST(EventLoader, DuplicateBib) {
  const LoadedEvent loaded =
      parse_runners(std::string(kHeader) + kRunners + "3,C9,Dup,Bib,M,1980,PRK,main,,\n");
  expect_only(loaded, "participants.csv", 7, "bib", "duplicate bib \"3\" (also at line 4)");
  EXPECT_EQ(loaded.event.participants.size(), 5u);
  EXPECT_EQ(loaded.event.participant_by_chip.count("C9"), 0u);
}

TEST(EventLoader, DuplicateChipAcrossRunners) {
  const LoadedEvent loaded =
      parse_runners(std::string(kHeader) + kRunners + "9,X9;C1b,Dup,Chip,M,1980,PRK,main,,\n");
  expect_only(loaded, "participants.csv", 7, "chip",
              "duplicate chip \"C1b\" (also bib 1 at line 2)");
  EXPECT_EQ(loaded.event.participant_by_chip.at("C1b"), 0u);
}

TEST(EventLoader, UnknownRace) {
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,1980,PRK,10k,,\n"),
              "participants.csv", 7, "race", "unknown race \"10k\"");
}

TEST(EventLoader, UnknownWave) {
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,1980,PRK,main,C,\n"),
              "participants.csv", 7, "wave", "unknown wave \"C\" in race \"main\"");
  // "short" has no waves at all.
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,1980,PRK,short,A,\n"),
              "participants.csv", 7, "wave", "unknown wave \"A\" in race \"short\"");
}

TEST(EventLoader, BadGender) {
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,Q,1980,PRK,main,,\n"),
              "participants.csv", 7, "gender", "must be M, F or X, not \"Q\"");
}

TEST(EventLoader, BadBirthYear) {
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,19x0,PRK,main,,\n"),
              "participants.csv", 7, "birth_year", "bad birth year \"19x0\"");
  // Born after the event.
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,2026,PRK,main,,\n"),
              "participants.csv", 7, "birth_year", "bad birth year \"2026\"");
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,1850,PRK,main,,\n"),
              "participants.csv", 7, "birth_year", "bad birth year \"1850\"");
}

TEST(EventLoader, WrongFieldCount) {
  expect_only(parse_runners(std::string(kHeader) + kRunners + "9,C9,A,B,M,1980,PRK,main\n"),
              "participants.csv", 7, "", "expected 10 fields, found 8");
}

TEST(EventLoader, MissingHeaderColumn) {
  const std::string header =
      "bib,chip,first_name,last_name,gender,birth_year,nation,race,wave,category\n";
  const LoadedEvent loaded = parse_runners(header + kRunners);
  expect_only(loaded, "participants.csv", 1, "country", "required column is missing");
  EXPECT_TRUE(loaded.event.participants.empty());
}

TEST(EventLoader, OptionalColumnsAndColumnOrder) {
  // No wave or category column, columns in another order, a quoted name with a line break.
  const LoadedEvent loaded = parse_runners(
      "race,bib,first_name,last_name,chip,gender,birth_year,country\n"
      "main,7,\"Kum\nDong\",Pak,C7,M,1990,PRK\n"
      "short,8,Ann,Lee,C8,F,1985,KOR\n"
      "short,9,Bo,Ri,C9,W,1985,KOR,extra\n");
  ASSERT_EQ(loaded.problems.size(), 1u) << describe(loaded.problems);
  EXPECT_TRUE(has(loaded.problems, "participants.csv", 5, "", "expected 8 fields, found 9"));
  ASSERT_EQ(loaded.event.participants.size(), 2u);
  EXPECT_EQ(loaded.event.participants[0].first_name, "Kum\nDong");
  EXPECT_EQ(loaded.event.participants[0].category, "M35");
  EXPECT_EQ(loaded.event.participants[1].bib, "8");
  EXPECT_EQ(loaded.event.participants[1].race, 1u);
  EXPECT_EQ(loaded.event.participants[1].category, "F40");
}

// ---- several problems at once ----

TEST(EventLoader, ReportsEveryProblemAtOnce) {
  std::string json = edit_line(kEventJson, 4, "+09:00", "9h");
  json = edit_line(json, 19, "\"mid\", \"distance_m\"", "\"midd\", \"distance_m\"");
  json = edit_line(json, 31, "\"rank_by\"", "\"rank-by\"");
  json = edit_line(json, 40, "\"main\"}", "\"primary\"}");
  const std::string csv = std::string(kHeader) +
                          "1,C1,A,B,M,1990,PRK,short,,\n"
                          "2,C2,A,B,Q,1990,PRK,short,,\n"
                          "3,C1,A,B,M,1990,PRK,short,,\n"
                          "4,C4,A,B,M,1990,PRK\n";
  const LoadedEvent loaded = parse_event(json, csv, courses());
  EXPECT_EQ(loaded.problems.size(), 7u) << describe(loaded.problems);
  EXPECT_TRUE(has(loaded.problems, "event.json", 4, "timezone", "bad UTC offset"));
  EXPECT_TRUE(has(loaded.problems, "event.json", 19, "races[0].splits[1].timing_point",
                  "unknown timing point \"midd\""));
  EXPECT_TRUE(has(loaded.problems, "event.json", 31, "races[1].rank-by", "unknown field"));
  EXPECT_TRUE(has(loaded.problems, "event.json", 40, "devices[0].line",
                  "must be \"main\" or \"backup\", not \"primary\""));
  EXPECT_TRUE(has(loaded.problems, "participants.csv", 3, "gender", "not \"Q\""));
  EXPECT_TRUE(has(loaded.problems, "participants.csv", 4, "chip", "duplicate chip \"C1\""));
  EXPECT_TRUE(has(loaded.problems, "participants.csv", 5, "", "expected 10 fields, found 7"));
  // What was good still loaded.
  EXPECT_EQ(loaded.event.races.size(), 1u);
  EXPECT_EQ(loaded.event.participants.size(), 1u);
}

// ---- the demo event ----

TEST(EventLoader, LoadsTheDemoEvent) {
  const LoadedEvent loaded = load_event_dir(SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025");
  EXPECT_TRUE(loaded.ok()) << describe(loaded.problems);
  const Event& e = loaded.event;
  EXPECT_EQ(e.id, "pyongyang-2025");
  EXPECT_EQ(e.races.size(), 4u);
  const Race* marathon = e.find_race("marathon");
  ASSERT_NE(marathon, nullptr);
  EXPECT_EQ(marathon->course.laps(), 4);
  EXPECT_NEAR(marathon->course.length_m(), 42195, 0.01 * 42195);
  EXPECT_EQ(marathon->distance_m, 42195);
  EXPECT_EQ(marathon->finish().cutoff, 6 * 60 * kMinute);
  EXPECT_FALSE(e.participants.empty());
}

TEST(EventLoader, MissingEventDirectory) {
  const LoadedEvent loaded = load_event_dir(SPLITSTREAM_SOURCE_DIR "/events/no-such-event");
  ASSERT_EQ(loaded.problems.size(), 2u) << describe(loaded.problems);
  EXPECT_EQ(loaded.problems[0].file, "event.json");
  EXPECT_EQ(loaded.problems[0].line, 0u);
  EXPECT_EQ(loaded.problems[1].file, "participants.csv");
}
