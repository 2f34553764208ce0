// The race director's view of the engine: how many runners are where, who is overdue, who is
// still out behind a split, who missed a cut-off, what an official should review, and the reads
// of chips nobody holds. Pure: the engine has no clock, so `now` comes in as a parameter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/projection.hpp"
#include "engine/race_engine.hpp"

namespace splitstream {

struct DirectorOptions {
  // A runner with no split this long after their gun did not start (DNS).
  DurationMs dns_after_ms = 30 * 60 * 1000;
  ProjectionOptions projection;
};

// The runners of a race (or a wave). entered = on_course + finished + dnf + dsq + dns +
// not_yet_seen; started counts those with any split, whatever their status now.
struct StatusCounts {
  std::size_t entered = 0;
  std::size_t started = 0;
  std::size_t on_course = 0;     // running: a split, not finished, no DNF/DSQ
  std::size_t finished = 0;      // a time at the finish, no DNF/DSQ
  std::size_t dnf = 0;           // set by an official
  std::size_t dsq = 0;           // set by an official
  std::size_t dns = 0;           // no split `dns_after` after their gun
  std::size_t not_yet_seen = 0;  // no split, their gun less than `dns_after` ago (or to come)

  friend bool operator==(const StatusCounts&, const StatusCounts&) = default;
};

struct WaveOverview {
  std::uint32_t wave = kNoIndex;  // index into Race::waves
  TimeMs gun = 0;
  StatusCounts counts;

  friend bool operator==(const WaveOverview&, const WaveOverview&) = default;
};

struct RaceOverview {
  RaceIndex race = kNoIndex;
  TimeMs gun = 0;  // the race's gun
  StatusCounts counts;
  std::vector<WaveOverview> waves;  // each wave the race declares, in its order

  friend bool operator==(const RaceOverview&, const RaceOverview&) = default;
};

// Every race of the event, in event order.
std::vector<RaceOverview> race_overview(const RaceEngine& engine, TimeMs now,
                                        const DirectorOptions& options = {});

struct OverdueRunner {
  RunnerIndex runner = kNoIndex;
  std::size_t last_split = 0;  // the runner's furthest split
  TimeMs last_seen = 0;        // its time
  std::size_t next_split = 0;
  TimeMs expected = 0;        // at the next split, at the pace the projection uses
  DurationMs overdue_by = 0;  // now - expected

  friend bool operator==(const OverdueRunner&, const OverdueRunner&) = default;
};

// Running runners (of `race`; kNoIndex: of every race) not seen at their next split `margin`
// after they were expected there (project_runner() from their furthest split). Most overdue
// first, then by runner.
std::vector<OverdueRunner> overdue_runners(const RaceEngine& engine, TimeMs now, DurationMs margin,
                                           RaceIndex race = kNoIndex,
                                           const DirectorOptions& options = {});

struct SweepRunner {
  RunnerIndex runner = kNoIndex;
  std::size_t last_split = 0;  // the runner's furthest split
  TimeMs last_seen = 0;        // its time
  TimeMs eta = 0;              // at the swept split, projected at `now`

  friend bool operator==(const SweepRunner&, const SweepRunner&) = default;
};

struct SweepReport {
  std::size_t passed = 0;  // runners of the race with a split at or after this one
  // Running runners whose furthest split is before this one: the last (latest ETA) first.
  std::vector<SweepRunner> runners;
};

SweepReport sweep(const RaceEngine& engine, RaceIndex race, std::size_t split, TimeMs now,
                  const DirectorOptions& options = {});

struct SplitSweepCounts {
  std::size_t passed = 0;     // as SweepReport::passed
  std::size_t still_out = 0;  // as SweepReport::runners.size()

  friend bool operator==(const SplitSweepCounts&, const SplitSweepCounts&) = default;
};

// Per split of the race, in course order.
std::vector<SplitSweepCounts> sweep_counts(const RaceEngine& engine, RaceIndex race);

struct CutoffMiss {
  RunnerIndex runner = kNoIndex;
  TimeMs eta = 0;              // at the split, projected at `now`
  std::size_t last_split = 0;  // the runner's furthest split

  friend bool operator==(const CutoffMiss&, const CutoffMiss&) = default;
};

// One split with a cut-off, for the runners of one gun: a wave, or (wave kNoIndex) the race's
// gun for its runners without a wave.
struct CutoffReport {
  RaceIndex race = kNoIndex;
  std::size_t split = 0;
  std::uint32_t wave = kNoIndex;
  TimeMs cutoff = 0;            // the gun + the split's cut-off
  std::size_t passed = 0;       // runners with a split at or after this one
  std::size_t passed_late = 0;  // of them, those with a time here after `cutoff`
  // Running runners before this split whose ETA here is after `cutoff` (those still out after
  // it included); latest ETA first.
  std::vector<CutoffMiss> projected_to_miss;

  friend bool operator==(const CutoffReport&, const CutoffReport&) = default;
};

// Every split with a cut-off, by race, split and gun (the race's waves in their order, then the
// runners without a wave when there are any, or when the race has no waves).
std::vector<CutoffReport> cutoff_report(const RaceEngine& engine, TimeMs now,
                                        const DirectorOptions& options = {});

// A read credited to a runner as an official reviews it.
struct ReviewRead {
  TimingPointIndex timing_point = kNoIndex;
  TimeMs time = 0;
  std::string chip;  // empty: entered by hand
  bool voided = false;
  std::optional<std::size_t> used_for;  // the split whose time it is

  friend bool operator==(const ReviewRead&, const ReviewRead&) = default;
};

struct ReviewEntry {
  RunnerIndex runner = kNoIndex;
  // Each read once (the same mat, time and chip read again is one), by time, mat, chip.
  std::vector<ReviewRead> reads;
  std::vector<VoidWindow> voids;  // by timing point, from, to

  friend bool operator==(const ReviewEntry&, const ReviewEntry&) = default;
};

// Runners an official should look at: those with a flag (missed mats, an implausible split),
// and those with a void window or a read entered by hand (so that it can be taken back). By
// race, then in participant order.
std::vector<ReviewEntry> review_queue(const RaceEngine& engine);

// The split an implausible_split flag's crossing came after (the latest split with a time
// not after it); nullopt when none (from the gun) or for other flags.
std::optional<std::size_t> flag_previous_split(const RaceEngine& engine, RunnerIndex runner,
                                               const Flag& flag);
// A flag for people: "no read at l1-square to l1-potong (3 splits in a row)", "l2-square at
// 09:12:03 is too soon: 14.2 m/s from l1-mirae (the race allows 10.0)"; local times at
// `utc_offset_minutes`.
std::string flag_text(const RaceEngine& engine, RunnerIndex runner, const Flag& flag,
                      int utc_offset_minutes);

struct UnknownChipReads {
  std::string chip;
  std::vector<ChipRead> reads;  // each read once, by time then timing point
  TimeMs first_seen = 0;
  TimeMs last_seen = 0;

  friend bool operator==(const UnknownChipReads&, const UnknownChipReads&) = default;
};

// Chips nobody holds that were read, by chip.
std::vector<UnknownChipReads> unknown_chip_reads(const RaceEngine& engine);

// Per timing point of the event (indexed by TimingPointIndex): the running runners (a split,
// not finished, DNF or DSQ) whose race still has a split there they have not passed. Running is
// a matter of reads and officials, so `now` does not change the answer today; it is part of
// the signature so that callers need not change if it ever does.
std::vector<std::size_t> runners_expected_at(const RaceEngine& engine, TimeMs now);

}  // namespace splitstream
