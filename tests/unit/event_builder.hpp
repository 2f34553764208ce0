// Small events built in code for engine tests: a straight course along the equator, where
// distances are easy to reason about.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/event.hpp"

namespace splitstream::testing {

inline constexpr TimeMs kGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
inline constexpr DurationMs kSec = 1000;
inline constexpr DurationMs kMin = 60 * kSec;

struct SplitSpec {
  std::string id;
  std::string timing_point;
  double distance_m;
};

class EventBuilder {
 public:
  EventBuilder& timing_point(const std::string& id, DurationMs dedup_ms = 5000) {
    TimingPoint tp;
    tp.id = tp.name = id;
    tp.dedup_ms = dedup_ms;
    event_.timing_points.push_back(tp);
    event_.reindex();
    return *this;
  }
  // `laps` > 1 makes the course a closed loop run that many times.
  EventBuilder& race(const std::string& id, std::vector<SplitSpec> splits, TimeMs gun = kGun,
                     RankBy rank_by = RankBy::gun, int laps = 1) {
    Race race;
    race.id = race.name = id;
    race.gun_time = gun;
    race.rank_by = rank_by;
    race.distance_m = splits.back().distance_m;
    race.max_speed_mps = event_.max_speed_mps;
    // 1 m along the equator is 1 / 111319.49 degrees of longitude.
    const double lap_m = race.distance_m / laps;
    std::vector<GeoPoint> line;
    if (laps == 1) {
      line = {{0, 0}, {0, lap_m / 111319.49}};
    } else {
      // Out along the equator and back just north of it: a thin closed loop.
      line = {{0, 0}, {0, lap_m / 2 / 111319.49}, {1e-7, lap_m / 2 / 111319.49}, {1e-7, 0}, {0, 0}};
    }
    race.course = Course(line, laps);
    for (std::size_t i = 0; i < splits.size(); ++i) {
      Split s;
      s.id = splits[i].id;
      s.timing_point = *event_.find_timing_point(splits[i].timing_point);
      s.distance_m = splits[i].distance_m;
      const auto& tp = event_.timing_points[s.timing_point];
      s.read_rule = tp.read_rule ? *tp.read_rule : i == 0 ? ReadRule::last : ReadRule::first;
      race.splits.push_back(s);
    }
    event_.races.push_back(std::move(race));
    event_.reindex();
    return *this;
  }
  EventBuilder& wave(const std::string& id, TimeMs gun) {
    event_.races.back().waves.push_back({id, gun});
    return *this;
  }
  EventBuilder& runner(const std::string& bib, const std::string& chip, const std::string& race,
                       Gender gender = Gender::male, const std::string& category = "",
                       const std::string& wave = "") {
    Participant p;
    p.bib = bib;
    p.chips = {chip};
    p.first_name = "Runner";
    p.last_name = bib;
    p.gender = gender;
    p.race = event_.race_by_id.at(race);
    p.category = category;
    if (!wave.empty()) p.wave = event_.races[p.race].wave_index(wave);
    event_.participants.push_back(std::move(p));
    event_.reindex();
    return *this;
  }
  Event build() {
    event_.id = "test";
    event_.year = 2025;
    event_.reindex();
    return event_;
  }

 private:
  Event event_;
};

// A 10 km point-to-point race: start, 5 km, finish at three separate mats.
inline EventBuilder ten_k() {
  EventBuilder b;
  b.timing_point("start").timing_point("k5").timing_point("finish");
  b.race("10k", {{"start", "start", 0}, {"5k", "k5", 5000}, {"finish", "finish", 10000}});
  return b;
}

// A 10 km race on a 5 km loop run twice: one stadium mat serves start, lap and finish.
inline EventBuilder two_laps() {
  EventBuilder b;
  b.timing_point("stadium", 10'000).timing_point("mid");
  b.race("laps",
         {{"start", "stadium", 0},
          {"l1-mid", "mid", 2500},
          {"lap1", "stadium", 5000},
          {"l2-mid", "mid", 7500},
          {"finish", "stadium", 10000}},
         kGun, RankBy::gun, 2);
  return b;
}

}  // namespace splitstream::testing
