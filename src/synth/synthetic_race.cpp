#include "synth/synthetic_race.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace splitstream {

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}
double SplitMix64::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}
double SplitMix64::normal() {
  const double u1 = std::max(uniform(), 1e-300);
  const double u2 = uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}
std::size_t SplitMix64::below(std::size_t n) {
  return n ? static_cast<std::size_t>(next() % n) : 0;
}

namespace {

// Typical median speed (m/s) of a mass field at a distance: slower over longer races.
double median_speed(double distance_m) {
  if (distance_m >= 40000) return 2.65;  // about 4:25 for a marathon
  if (distance_m >= 20000) return 2.85;
  if (distance_m >= 9000) return 3.0;
  return 3.1;
}

// Relative speed at fraction x of the course: fresh early, slowing late (fatigue grows with
// distance).
double fatigue(double x, double distance_m) {
  const double fade = std::min(0.16, distance_m / 42195.0 * 0.12);
  return 1 + fade * (0.5 - x * x * 1.5 + 0.25);
}

// Seconds to reach `d` along a course of length `total` at base speed v0 with fatigue.
double seconds_to(double d, double total, double v0) {
  constexpr int kSteps = 64;
  double t = 0;
  const double step = d / kSteps;
  for (int i = 0; i < kSteps; ++i) {
    const double x = (step * (i + 0.5)) / total;
    t += step / (v0 * fatigue(x, total));
  }
  return t;
}

struct LineDevices {
  std::string main, backup;
};

}  // namespace

std::vector<FileRead> synthesize_reads(const Event& event, const SynthOptions& options) {
  SplitMix64 rng(options.seed);
  std::vector<LineDevices> devices(event.timing_points.size());
  for (const Device& d : event.devices) {
    LineDevices& ld = devices[d.timing_point];
    if (d.line == Line::backup) {
      if (ld.backup.empty()) ld.backup = d.id;
    } else if (ld.main.empty()) {
      ld.main = d.id;
    }
  }
  std::vector<FileRead> reads;
  auto emit = [&](TimingPointIndex tp, const std::string& chip, double true_time_ms) {
    for (int line = 0; line < 2; ++line) {
      const std::string& device = line == 0 ? devices[tp].main : devices[tp].backup;
      if (line == 1 && device.empty()) continue;
      if (rng.uniform() >= options.capture_rate) continue;
      const auto n = 1 + rng.below(static_cast<std::size_t>(std::max(1, options.max_raw_reads)));
      for (std::size_t k = 0; k < n; ++k) {
        FileRead r;
        r.timing_point = tp;
        r.chip = chip;
        r.time = static_cast<TimeMs>(
            std::llround(true_time_ms + rng.uniform(0, 1500) * (k == 0 ? 0.2 : 1.0)));
        r.device = device;
        r.line = device.empty() ? Line::unspecified : (line == 0 ? Line::main : Line::backup);
        reads.push_back(std::move(r));
      }
    }
  };
  for (std::size_t i = 0; i < event.participants.size(); ++i) {
    const Participant& p = event.participants[i];
    const Race& race = event.races[p.race];
    const double total = race.splits.back().distance_m;
    if (rng.uniform() < options.dns_rate && !options.target_finish.count(p.bib)) continue;
    const bool elite = p.category == "Elite";
    double z = rng.normal();
    if (options.seeded_waves && race.waves.size() > 1 && p.wave != kNoIndex) {
      // Wave w of W: shifted from +0.7 sd (first) to -0.7 sd (last), a narrower spread within.
      const double position =
          static_cast<double>(p.wave) / static_cast<double>(race.waves.size() - 1);
      z = 0.7 * z + 0.7 * (1 - 2 * position);
    }
    double v0 = median_speed(total) * std::exp(0.17 * z);
    if (p.gender == Gender::female) v0 *= 0.93;
    if (p.birth_year > 0 && event.year - p.birth_year > 45) v0 *= 0.95;
    if (elite) {
      // A national-class field: men about 2:20 for the marathon, capped at 6% faster.
      const double base = (total >= 40000 ? 4.95 : 5.2) * (p.gender == Gender::female ? 0.9 : 1.0);
      v0 = std::min(base * 1.06, base * std::exp(0.025 * rng.normal()));
    }
    v0 = std::clamp(v0, 1.6, 6.0);
    const TimeMs gun = event.gun_time_of(p);
    // Elites start on the line; the field spreads over a few minutes behind them.
    const double start_delay_s = elite ? rng.uniform(0.5, 3) : rng.uniform(5, 240);
    if (auto target = options.target_finish.find(p.bib); target != options.target_finish.end()) {
      const double wanted_s = static_cast<double>(target->second) / 1000.0 - start_delay_s;
      v0 = seconds_to(total, total, 1.0) / wanted_s;
    }
    const std::size_t stop_after =
        rng.uniform() < options.dnf_rate && !options.target_finish.count(p.bib)
            ? 1 + rng.below(race.splits.size() - 1)
            : race.splits.size();
    const std::string& chip = p.chips.front();
    const double start_ms = static_cast<double>(gun) + start_delay_s * 1000.0;
    // Some runners stand on the start mat before the gun: reads every few seconds.
    if (rng.uniform() < 0.2) {
      for (double t = start_ms - rng.uniform(10, 40) * 1000.0; t < start_ms; t += 4000) {
        emit(race.start().timing_point, chip, t);
      }
    }
    for (std::size_t s = 0; s < stop_after; ++s) {
      const double at = start_ms + seconds_to(race.splits[s].distance_m, total, v0) * 1000.0;
      emit(race.splits[s].timing_point, chip, at);
    }
  }
  for (std::size_t u = 0; u < options.unknown_chip_reads && !event.timing_points.empty(); ++u) {
    const auto tp = static_cast<TimingPointIndex>(rng.below(event.timing_points.size()));
    const TimeMs base = event.races.empty() ? 0 : event.races.front().gun_time;
    emit(tp, "UNKNOWN" + std::to_string(1000 + rng.below(5)),
         static_cast<double>(base) + rng.uniform(0, 3600e3));
  }
  std::stable_sort(reads.begin(), reads.end(),
                   [](const FileRead& a, const FileRead& b) { return a.time < b.time; });
  return reads;
}

Event make_synthetic_event(std::size_t runners, std::size_t splits, double distance_m) {
  Event event;
  event.id = "synthetic";
  event.name = "Synthetic race";
  event.year = 2025;
  event.age_group_bounds = default_age_group_bounds();
  const GeoPoint origin{39.0, 125.7};
  // A straight course due east; one degree of longitude at 39 N is about 86.6 km.
  const double deg_per_m = 1.0 / 86'627.0;
  std::vector<GeoPoint> line;
  for (int i = 0; i <= 100; ++i)
    line.push_back({origin.lat, origin.lon + distance_m * deg_per_m * i / 100.0});
  Race race;
  race.id = "race";
  race.name = "Race";
  race.gun_time = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
  race.course = Course(line, 1);
  race.distance_m = race.course.length_m();
  for (std::size_t s = 0; s < splits; ++s) {
    const double d = race.distance_m * static_cast<double>(s) / static_cast<double>(splits - 1);
    TimingPoint tp;
    tp.id = "tp" + std::to_string(s);
    tp.name = tp.id;
    tp.position = race.course.point_at(d);
    event.timing_points.push_back(tp);
    const auto tpi = static_cast<TimingPointIndex>(s);
    race.splits.push_back({s == 0            ? "start"
                           : s + 1 == splits ? "finish"
                                             : "s" + std::to_string(s),
                           tpi, d, s == 0 ? ReadRule::last : ReadRule::first, std::nullopt});
    event.devices.push_back({tp.id + "-main", tpi, Line::main});
    event.devices.push_back({tp.id + "-backup", tpi, Line::backup});
  }
  event.races.push_back(std::move(race));
  SplitMix64 rng(7);
  for (std::size_t i = 0; i < runners; ++i) {
    Participant p;
    p.bib = std::to_string(i + 1);
    p.chips.push_back("C" + std::to_string(1'000'000 + i));
    p.first_name = "Runner";
    p.last_name = std::to_string(i + 1);
    p.gender = rng.uniform() < 0.6 ? Gender::male : Gender::female;
    p.birth_year = 1950 + static_cast<int>(rng.below(55));
    p.country = "PRK";
    p.race = 0;
    p.category = age_group_label(p.gender, event.year - p.birth_year, event.age_group_bounds);
    event.participants.push_back(std::move(p));
  }
  event.reindex();
  return event;
}

}  // namespace splitstream
