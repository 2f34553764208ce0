// The one engine harness of the tests: small events built in code (a straight course along the
// equator, where distances are easy to reason about), an engine over one driven by timing point
// names and bibs, and what the order-independence properties need (reads applied in a given
// order, shuffled with duplicates, and everything the engine decided, to compare).
//
// Unit tests include it as "../support/engine_harness.hpp", integration tests as
// "support/engine_harness.hpp". It includes nothing from tests/.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/corrections.hpp"
#include "engine/race_engine.hpp"
#include "model/event.hpp"
#include "results/reads_file.hpp"
#include "results/results_report.hpp"
#include "synth/synthetic_race.hpp"

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

// Corrections as officials make them, by name.
inline Correction void_at(const std::string& bib, const std::string& tp, TimeMs from, TimeMs to) {
  Correction c;
  c.kind = CorrectionKind::void_reads;
  c.bib = bib;
  c.timing_point = tp;
  c.from = from;
  c.to = to;
  return c;
}

inline Correction restore_at(const std::string& bib, const std::string& tp, TimeMs from,
                             TimeMs to) {
  Correction c = void_at(bib, tp, from, to);
  c.kind = CorrectionKind::restore_reads;
  return c;
}

inline Correction manual(const std::string& bib, const std::string& tp, TimeMs t) {
  Correction c;
  c.kind = CorrectionKind::add_read;
  c.bib = bib;
  c.timing_point = tp;
  c.time = t;
  return c;
}

inline Correction move(const std::string& chip, const std::string& bib) {
  Correction c;
  c.kind = CorrectionKind::move_chip;
  c.chip = chip;
  c.bib = bib;
  return c;
}

inline Correction status(const std::string& bib, OfficialStatus s) {
  Correction c;
  c.kind = CorrectionKind::set_status;
  c.bib = bib;
  c.status = s;
  return c;
}

// An engine over an event of its own (at a fixed address: the engine refers to it), driven by
// timing point names and bibs.
class EngineHarness {
 public:
  explicit EngineHarness(Event e)
      : event_(std::make_unique<Event>(std::move(e))), engine_(*event_) {}

  ApplyResult read(const std::string& timing_point, const std::string& chip, TimeMs t) {
    return engine_.apply({*event_->find_timing_point(timing_point), chip, t});
  }
  CorrectionResult correct(const Correction& c) { return apply_correction(engine_, c); }

  RunnerIndex runner(const std::string& bib) const { return event_->participant_by_bib.at(bib); }
  TimeMs split(const std::string& bib, std::size_t s) const {
    return engine_.splits(runner(bib)).times[s];
  }
  // The bibs of a race's standings (the first race unless told), first to last.
  std::vector<std::string> order(std::string_view category = RaceEngine::kOverall,
                                 RaceIndex race = 0) const {
    std::vector<std::string> bibs;
    for (RunnerIndex i : engine_.standings(race, category))
      bibs.push_back(event_->participants[i].bib);
    return bibs;
  }

  RaceEngine& engine() { return engine_; }
  const RaceEngine& engine() const { return engine_; }
  const Event& event() const { return *event_; }

 private:
  std::unique_ptr<Event> event_;
  RaceEngine engine_;
};

inline ApplyResult apply_read(RaceEngine& engine, const FileRead& r) {
  return engine.apply({r.timing_point, r.chip, r.time});
}

// Every read in the order given.
inline void apply_reads(RaceEngine& engine, const std::vector<FileRead>& reads) {
  for (const FileRead& r : reads)
    apply_read(engine, r);
}

// Everything the engine decided: standings, splits, ranks and flags of every race, and which
// chips are unknown. Not the read counters, which duplicates change by design.
inline boost::json::value outcome_of(const RaceEngine& engine) {
  boost::json::value doc = results_json(engine);
  boost::json::array chips;
  for (const auto& u : engine.unknown_chips())
    chips.push_back(boost::json::value(u.chip));
  return boost::json::object{{"races", doc.at("races")}, {"unknown", chips}};
}

// Everything an engine holds and answers, runner by runner: outcome_of() plus each runner's kept
// reads (chips by name), voids, official status, crossings, ranks in each category and at each
// split, and the counters and each unknown chip's reads. Two engines with equal states answer
// every question alike.
inline boost::json::value full_state_of(const RaceEngine& engine) {
  const Event& event = engine.event();
  boost::json::array runners;
  for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
    boost::json::array reads, voids, crossings, ranks, split_ranks;
    for (const CreditedRead& read : engine.credited_reads(r)) {
      reads.push_back(boost::json::array{
          read.time, read.timing_point,
          read.chip == ChipIndex::kNobody ? "" : engine.chip_name(read.chip).c_str()});
    }
    for (const VoidWindow& v : engine.voids(r))
      voids.push_back(boost::json::array{v.timing_point, v.from, v.to});
    for (const Crossing& c : engine.crossings(r))
      crossings.push_back(boost::json::array{c.timing_point, c.first, c.last});
    for (const std::string& category : RaceEngine::categories_of(event.participants[r])) {
      ranks.push_back(engine.rank(r, category));
      for (std::size_t s = 0; s < engine.splits(r).times.size(); ++s)
        split_ranks.push_back(engine.split_rank(r, s, category));
    }
    runners.push_back(boost::json::object{{"bib", event.participants[r].bib},
                                          {"status", to_string(engine.status(r))},
                                          {"official", static_cast<int>(engine.official_status(r))},
                                          {"reads", reads},
                                          {"voids", voids},
                                          {"crossings", crossings},
                                          {"ranks", ranks},
                                          {"split_ranks", split_ranks}});
  }
  boost::json::array unknown;
  for (const UnknownChipInfo& u : engine.unknown_chips()) {
    boost::json::array reads;
    for (const ChipRead& read : engine.unknown_chip_reads(u.chip))
      reads.push_back(boost::json::array{read.timing_point, read.time});
    unknown.push_back(boost::json::object{{"chip", u.chip}, {"reads", reads}});
  }
  const EngineCounters& c = engine.counters();
  return boost::json::object{
      {"outcome", outcome_of(engine)},
      {"runners", runners},
      {"unknown", unknown},
      {"counters", boost::json::array{c.reads, c.applied, c.duplicates, c.unknown_chip,
                                      c.not_on_course, c.before_gun, c.voided}}};
}

// The reads with about `duplicate_share` of them again (resends, the other line's copy of the
// same read), then shuffled, all drawn from `rng`.
inline std::vector<FileRead> shuffled_with_duplicates(std::vector<FileRead> reads,
                                                      double duplicate_share, SplitMix64& rng) {
  const std::size_t n = reads.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (rng.uniform() < duplicate_share) reads.push_back(reads[i]);
  }
  for (std::size_t i = reads.size(); i > 1; --i)
    std::swap(reads[i - 1], reads[rng.below(i)]);
  return reads;
}

// A read or an official's correction, in the order an engine meets them.
struct Step {
  std::optional<FileRead> read;
  std::optional<Correction> correction;
};

// The reads shuffled with about `duplicate_share` of them twice, and the corrections in their own
// order (the stream's), each at a random place after the one before it.
inline std::vector<Step> interleave(const std::vector<FileRead>& reads,
                                    const std::vector<Correction>& fixes, double duplicate_share,
                                    SplitMix64& rng) {
  std::vector<Step> steps;
  for (FileRead& r : shuffled_with_duplicates(reads, duplicate_share, rng))
    steps.push_back({std::move(r), std::nullopt});
  std::size_t at = 0;
  for (const Correction& c : fixes) {
    at += rng.below(steps.size() - at + 1);
    steps.insert(steps.begin() + static_cast<std::ptrdiff_t>(at), Step{std::nullopt, c});
    ++at;
  }
  return steps;
}

}  // namespace splitstream::testing
