#include "engine/race_director.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace splitstream {
namespace {

void count_runner(const RaceEngine& engine, RunnerIndex r, TimeMs now,
                  const DirectorOptions& options, StatusCounts& c) {
  ++c.entered;
  if (engine.splits(r).furthest >= 0) ++c.started;
  switch (engine.status(r)) {
    case RunnerStatus::running:
      ++c.on_course;
      break;
    case RunnerStatus::finished:
      ++c.finished;
      break;
    case RunnerStatus::dnf:
      ++c.dnf;
      break;
    case RunnerStatus::dsq:
      ++c.dsq;
      break;
    case RunnerStatus::not_started:
      if (now >= engine.gun_time(r) + options.dns_after_ms) {
        ++c.dns;
      } else {
        ++c.not_yet_seen;
      }
      break;
  }
}

std::size_t furthest_of(const RaceEngine& engine, RunnerIndex r) {
  return static_cast<std::size_t>(engine.splits(r).furthest);
}

// "08:03:12" in the event's UTC offset.
std::string local_clock(TimeMs t, int offset_minutes) {
  return format_iso8601(t, offset_minutes).substr(11, 8);
}

}  // namespace

std::vector<RaceOverview> race_overview(const RaceEngine& engine, TimeMs now,
                                        const DirectorOptions& options) {
  const Event& event = engine.event();
  std::vector<RaceOverview> out(event.races.size());
  for (RaceIndex i = 0; i < event.races.size(); ++i) {
    const Race& race = event.races[i];
    out[i].race = i;
    out[i].gun = race.gun_time;
    for (std::uint32_t w = 0; w < race.waves.size(); ++w)
      out[i].waves.push_back({w, race.waves[w].gun_time, {}});
  }
  for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
    const Participant& p = event.participants[r];
    RaceOverview& race = out[p.race];
    count_runner(engine, r, now, options, race.counts);
    if (p.wave != kNoIndex) count_runner(engine, r, now, options, race.waves[p.wave].counts);
  }
  return out;
}

std::vector<OverdueRunner> overdue_runners(const RaceEngine& engine, TimeMs now, DurationMs margin,
                                           RaceIndex race, const DirectorOptions& options) {
  const Event& event = engine.event();
  std::vector<OverdueRunner> out;
  for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
    if (race != kNoIndex && event.participants[r].race != race) continue;
    if (engine.status(r) != RunnerStatus::running) continue;
    const std::size_t last = furthest_of(engine, r);
    const TimeMs last_seen = engine.splits(r).times[last];
    // Projected from the moment they were last seen: when they were due at the next mat.
    const auto projection = project_runner(engine, r, last_seen, options.projection);
    if (!projection) continue;
    const TimeMs expected = projection->eta[last + 1];
    if (now <= expected + margin) continue;
    out.push_back({r, last, last_seen, last + 1, expected, now - expected});
  }
  std::sort(out.begin(), out.end(), [](const OverdueRunner& a, const OverdueRunner& b) {
    return std::tie(b.overdue_by, a.runner) < std::tie(a.overdue_by, b.runner);
  });
  return out;
}

SweepReport sweep(const RaceEngine& engine, RaceIndex race, std::size_t split, TimeMs now,
                  const DirectorOptions& options) {
  const Event& event = engine.event();
  SweepReport out;
  for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
    if (event.participants[r].race != race) continue;
    const int furthest = engine.splits(r).furthest;
    if (furthest >= 0 && static_cast<std::size_t>(furthest) >= split) {
      ++out.passed;
      continue;
    }
    if (engine.status(r) != RunnerStatus::running) continue;
    const auto projection = project_runner(engine, r, now, options.projection);
    if (!projection) continue;
    const std::size_t last = furthest_of(engine, r);
    out.runners.push_back({r, last, engine.splits(r).times[last], projection->eta[split]});
  }
  std::sort(out.runners.begin(), out.runners.end(), [](const SweepRunner& a, const SweepRunner& b) {
    return std::tie(b.eta, a.runner) < std::tie(a.eta, b.runner);
  });
  return out;
}

std::vector<SplitSweepCounts> sweep_counts(const RaceEngine& engine, RaceIndex race) {
  const Event& event = engine.event();
  std::vector<SplitSweepCounts> out(event.races[race].splits.size());
  for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
    if (event.participants[r].race != race) continue;
    const int furthest = engine.splits(r).furthest;
    const bool running = engine.status(r) == RunnerStatus::running;
    for (std::size_t s = 0; s < out.size(); ++s) {
      if (furthest >= 0 && static_cast<std::size_t>(furthest) >= s) {
        ++out[s].passed;
      } else if (running) {
        ++out[s].still_out;
      }
    }
  }
  return out;
}

std::vector<CutoffReport> cutoff_report(const RaceEngine& engine, TimeMs now,
                                        const DirectorOptions& options) {
  const Event& event = engine.event();
  // Each running runner's projection at `now`, once.
  std::vector<std::optional<RunnerProjection>> projections(event.participants.size());
  for (RunnerIndex r = 0; r < event.participants.size(); ++r)
    projections[r] = project_runner(engine, r, now, options.projection);
  std::vector<CutoffReport> out;
  for (RaceIndex ri = 0; ri < event.races.size(); ++ri) {
    const Race& race = event.races[ri];
    std::vector<std::uint32_t> guns;
    for (std::uint32_t w = 0; w < race.waves.size(); ++w)
      guns.push_back(w);
    bool without_wave = race.waves.empty();
    for (const Participant& p : event.participants)
      without_wave = without_wave || (p.race == ri && p.wave == kNoIndex);
    if (without_wave) guns.push_back(kNoIndex);
    for (std::size_t s = 0; s < race.splits.size(); ++s) {
      if (!race.splits[s].cutoff) continue;
      for (const std::uint32_t wave : guns) {
        CutoffReport report;
        report.race = ri;
        report.split = s;
        report.wave = wave;
        report.cutoff =
            (wave == kNoIndex ? race.gun_time : race.waves[wave].gun_time) + *race.splits[s].cutoff;
        for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
          const Participant& p = event.participants[r];
          if (p.race != ri || p.wave != wave) continue;
          const SplitAssignment& a = engine.splits(r);
          if (a.furthest >= 0 && static_cast<std::size_t>(a.furthest) >= s) {
            ++report.passed;
            if (a.times[s] != kNoTime && a.times[s] > report.cutoff) ++report.passed_late;
            continue;
          }
          if (!projections[r]) continue;
          const TimeMs eta = projections[r]->eta[s];
          if (eta > report.cutoff)
            report.projected_to_miss.push_back({r, eta, furthest_of(engine, r)});
        }
        std::sort(report.projected_to_miss.begin(), report.projected_to_miss.end(),
                  [](const CutoffMiss& a, const CutoffMiss& b) {
                    return std::tie(b.eta, a.runner) < std::tie(a.eta, b.runner);
                  });
        out.push_back(std::move(report));
      }
    }
  }
  return out;
}

std::vector<ReviewEntry> review_queue(const RaceEngine& engine) {
  const Event& event = engine.event();
  std::vector<ReviewEntry> out;
  for (RaceIndex ri = 0; ri < event.races.size(); ++ri) {
    const Race& race = event.races[ri];
    for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
      if (event.participants[r].race != ri) continue;
      const auto credited = engine.credited_reads(r);
      const auto voids = engine.voids(r);
      const bool by_hand = std::any_of(credited.begin(), credited.end(), [](const CreditedRead& c) {
        return c.chip == ChipIndex::kNobody;
      });
      const SplitAssignment& a = engine.splits(r);
      if (a.flags.empty() && voids.empty() && !by_hand) continue;
      ReviewEntry entry;
      entry.runner = r;
      entry.voids.assign(voids.begin(), voids.end());
      std::sort(
          entry.voids.begin(), entry.voids.end(), [](const VoidWindow& x, const VoidWindow& y) {
            return std::tie(x.timing_point, x.from, x.to) < std::tie(y.timing_point, y.from, y.to);
          });
      for (const CreditedRead& c : credited) {
        ReviewRead read;
        read.timing_point = c.timing_point;
        read.time = c.time;
        if (c.chip != ChipIndex::kNobody) read.chip = engine.chip_name(c.chip);
        read.voided = std::any_of(voids.begin(), voids.end(), [&](const VoidWindow& v) {
          return v.timing_point == c.timing_point && c.time >= v.from && c.time <= v.to;
        });
        for (std::size_t s = 0; s < race.splits.size() && !read.voided; ++s) {
          if (race.splits[s].timing_point == c.timing_point && a.times[s] == c.time) {
            read.used_for = s;
            break;
          }
        }
        entry.reads.push_back(std::move(read));
      }
      std::sort(entry.reads.begin(), entry.reads.end(),
                [](const ReviewRead& x, const ReviewRead& y) {
                  return std::tie(x.time, x.timing_point, x.chip) <
                         std::tie(y.time, y.timing_point, y.chip);
                });
      entry.reads.erase(std::unique(entry.reads.begin(), entry.reads.end()), entry.reads.end());
      out.push_back(std::move(entry));
    }
  }
  return out;
}

std::optional<std::size_t> flag_previous_split(const RaceEngine& engine, RunnerIndex runner,
                                               const Flag& flag) {
  if (flag.kind != FlagKind::implausible_split) return std::nullopt;
  const SplitAssignment& a = engine.splits(runner);
  std::optional<std::size_t> previous;
  for (std::size_t s = 0; s < a.times.size(); ++s) {
    if (a.times[s] == kNoTime || a.times[s] > flag.time) continue;
    if (!previous || a.times[s] >= a.times[*previous]) previous = s;
  }
  return previous;
}

std::string flag_text(const RaceEngine& engine, RunnerIndex runner, const Flag& flag,
                      int utc_offset_minutes) {
  const Event& event = engine.event();
  const Race& race = event.races[event.participants[runner].race];
  if (flag.kind == FlagKind::missed_mats) {
    const int count = flag.split_to - flag.split_from + 1;
    return "no read at " + race.splits[flag.split_from].id + " to " +
           race.splits[flag.split_to].id + " (" + std::to_string(count) + " splits in a row)";
  }
  const auto previous = flag_previous_split(engine, runner, flag);
  const std::string from = previous ? race.splits[*previous].id : "the gun";
  const std::string head = race.splits[flag.split_from].id + " at " +
                           local_clock(flag.time, utc_offset_minutes) + " is too soon";
  if (!std::isfinite(flag.speed_mps)) return head + ": no later than " + from;
  char buf[96];
  std::snprintf(buf, sizeof buf, ": %.1f m/s from %s (the race allows %.1f)",
                static_cast<double>(flag.speed_mps), from.c_str(), race.max_speed_mps);
  return head + buf;
}

std::vector<UnknownChipReads> unknown_chip_reads(const RaceEngine& engine) {
  std::vector<UnknownChipReads> out;
  for (const UnknownChipInfo& info : engine.unknown_chips()) {
    UnknownChipReads chip{info.chip, {}, info.first_seen, info.last_seen};
    const auto reads = engine.unknown_chip_reads(info.chip);
    chip.reads.assign(reads.begin(), reads.end());
    std::sort(chip.reads.begin(), chip.reads.end(), [](const ChipRead& x, const ChipRead& y) {
      return std::tie(x.time, x.timing_point) < std::tie(y.time, y.timing_point);
    });
    chip.reads.erase(std::unique(chip.reads.begin(), chip.reads.end()), chip.reads.end());
    out.push_back(std::move(chip));
  }
  return out;
}

std::vector<std::size_t> runners_expected_at(const RaceEngine& engine, TimeMs /*now*/) {
  const Event& event = engine.event();
  std::vector<std::size_t> out(event.timing_points.size(), 0);
  std::vector<RunnerIndex> counted_for(event.timing_points.size(), kNoIndex);
  for (RunnerIndex r = 0; r < event.participants.size(); ++r) {
    if (engine.status(r) != RunnerStatus::running) continue;
    const Race& race = event.races[event.participants[r].race];
    for (std::size_t s = furthest_of(engine, r) + 1; s < race.splits.size(); ++s) {
      const TimingPointIndex tp = race.splits[s].timing_point;
      if (counted_for[tp] == r) continue;
      counted_for[tp] = r;
      ++out[tp];
    }
  }
  return out;
}

}  // namespace splitstream
