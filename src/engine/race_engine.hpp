// The race engine: reads in, passings, splits and standings out. No I/O and no clock: fed
// reads, it gives the same state whatever order they arrive in.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/chip_index.hpp"
#include "engine/crossings.hpp"
#include "engine/ranking.hpp"
#include "engine/split_assignment.hpp"
#include "model/event.hpp"

namespace splitstream {

enum class RunnerStatus : std::uint8_t { not_started, running, finished, dnf, dsq };
enum class OfficialStatus : std::uint8_t { none, dnf, dsq };

std::string_view to_string(RunnerStatus s);

struct Read {
  TimingPointIndex timing_point = kNoIndex;
  std::string_view chip;
  TimeMs time = 0;
};

enum class ReadOutcome : std::uint8_t {
  applied,        // changed the runner's crossings
  duplicate,      // inside a crossing already known: nothing changed
  unknown_chip,   // kept until the chip is assigned
  not_on_course,  // the runner's race has no split at this timing point
  before_gun,     // before the runner's gun at a mat that is not the start
  voided,         // inside a window an official voided for the runner at this mat
};

std::string_view to_string(ReadOutcome o);

struct ApplyResult {
  ReadOutcome outcome = ReadOutcome::duplicate;
  RunnerIndex runner = kNoIndex;
  bool standing_changed = false;  // the runner's place in the standings moved
  // Splits of the runner's race whose time changed; valid until the next call.
  std::span<const std::uint16_t> changed_splits;
};

struct EngineCounters {
  std::uint64_t reads = 0;
  std::uint64_t applied = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t unknown_chip = 0;
  std::uint64_t not_on_course = 0;
  std::uint64_t before_gun = 0;
  std::uint64_t voided = 0;

  friend bool operator==(const EngineCounters&, const EngineCounters&) = default;
};

// Reads of one runner at one timing point that an official declared void (both ends
// included): they count for nothing, whenever they arrive.
struct VoidWindow {
  TimingPointIndex timing_point = kNoIndex;
  TimeMs from = 0;
  TimeMs to = 0;

  friend bool operator==(const VoidWindow&, const VoidWindow&) = default;
};

// What a correction did to one runner.
struct RunnerChange {
  RunnerIndex runner = kNoIndex;
  bool standing_changed = false;              // the runner's place in the standings moved
  std::vector<std::uint16_t> changed_splits;  // splits whose time changed
};

struct CorrectionResult {
  std::optional<std::string> error;   // why it could not be applied; then nothing changed
  std::vector<RunnerChange> changes;  // the runners it re-derived
};

// A read credited to a runner, kept so that corrections can derive the runner again.
struct CreditedRead {
  TimeMs time = 0;
  TimingPointIndex timing_point = kNoIndex;
  std::uint32_t chip = ChipIndex::kNobody;  // its ChipIndex id (chip_name()); kNobody: by hand

  friend bool operator==(const CreditedRead&, const CreditedRead&) = default;
};

// A read of a chip nobody holds, kept until the chip is assigned.
struct ChipRead {
  TimingPointIndex timing_point = kNoIndex;
  TimeMs time = 0;

  friend bool operator==(const ChipRead&, const ChipRead&) = default;
};

struct UnknownChipInfo {
  std::string chip;
  std::uint64_t reads = 0;
  TimeMs first_seen = 0;
  TimeMs last_seen = 0;
  std::vector<TimingPointIndex> timing_points;
};

struct EngineSnapshot;  // engine/engine_snapshot.hpp

class RaceEngine {
 public:
  // `event` must outlive the engine.
  explicit RaceEngine(const Event& event);
  RaceEngine(const RaceEngine&) = delete;
  RaceEngine& operator=(const RaceEngine&) = delete;

  ApplyResult apply(const Read& read);
  // For a caller applying many reads in a row (a batch from the stream): before applying the
  // i-th of n reads, starts fetching the memory that reads i+2, i+4 and i+8 will touch (their
  // chip's slot, then its runner, then the runner's buffers), so that it arrives while the reads
  // before them are applied. A read of a 60,000-runner field spends most of its time waiting for
  // memory; this hides much of it. `chip_at(j)` gives the j-th read's chip (anything, say "",
  // where there is no read). Changes nothing.
  template <typename ChipAt>
  void prefetch_ahead(std::size_t i, std::size_t n, ChipAt&& chip_at) const {
    if (i + 8 < n) prefetch(chip_at(i + 8), Prefetch::chip_slot);
    if (i + 4 < n) prefetch(chip_at(i + 4), Prefetch::runner);
    if (i + 2 < n) prefetch(chip_at(i + 2), Prefetch::runner_buffers);
  }

  // Corrections by officials. Each leaves the runners it touches as if it had been in place
  // before any read arrived: the engine keeps every read credited to a runner and derives the
  // runner again from them, so the state still depends only on the set of reads (plus the
  // corrections), never on the order they came in.
  //
  // A read entered by hand for a runner (a mat that missed them, seen on video): kept with the
  // runner, whatever happens to its chips.
  ApplyResult apply_manual(RunnerIndex runner, TimingPointIndex timing_point, TimeMs time);
  // Voids the runner's reads at a timing point from `from` to `to` (inclusive), those already
  // applied and those still to come.
  CorrectionResult void_reads(RunnerIndex runner, VoidWindow window);
  // Takes back a void_reads() of exactly that window.
  CorrectionResult restore_reads(RunnerIndex runner, VoidWindow window);
  // Gives a chip, with every read of it so far, to `runner` (kNoIndex: to nobody; its reads are
  // then kept as an unknown chip's). A chip the event does not list is added.
  CorrectionResult move_chip(std::string_view chip, RunnerIndex runner);
  // Assigns a chip nobody holds yet to a bib and applies the reads kept for it.
  // Returns an error text when that is not possible.
  std::optional<std::string> assign_chip(std::string_view chip, std::string_view bib);
  // DNF or DSQ set by an official (none clears it). Such runners keep their splits but leave
  // the rankings.
  CorrectionResult set_official_status(RunnerIndex runner, OfficialStatus status);

  // The engine's kept state, and an engine made equal to the one a snapshot was taken of (a
  // node's checkpoint; engine/engine_snapshot.hpp). restore() wants an engine that has been fed
  // nothing; an error names what of the snapshot does not fit this event, and then nothing
  // changed.
  EngineSnapshot snapshot() const;
  std::optional<std::string> restore(const EngineSnapshot& snapshot);

  const Event& event() const { return event_; }
  const EngineCounters& counters() const { return counters_; }
  std::vector<UnknownChipInfo> unknown_chips() const;

  // Per runner.
  const SplitAssignment& splits(RunnerIndex r) const { return runners_[r].assignment; }
  std::span<const Crossing> crossings(RunnerIndex r) const { return runners_[r].crossings.items(); }
  RunnerStatus status(RunnerIndex r) const;
  OfficialStatus official_status(RunnerIndex r) const { return runners_[r].official; }
  std::span<const VoidWindow> voids(RunnerIndex r) const { return runners_[r].voids; }
  // Reads credited to the runner, voided ones included (by hand or from its chips).
  std::size_t read_count(RunnerIndex r) const { return runners_[r].reads.size(); }
  // The same reads, in the order they were credited (duplicates included).
  std::span<const CreditedRead> credited_reads(RunnerIndex r) const { return runners_[r].reads; }
  // The chip of a CreditedRead::chip id.
  const std::string& chip_name(std::uint32_t chip_id) const { return chips_.chip(chip_id); }
  // The reads kept for a chip nobody holds, in arrival order; empty for any other chip.
  std::span<const ChipRead> unknown_chip_reads(std::string_view chip) const;
  // The runner a chip belongs to now (after any move_chip), nullopt when nobody.
  std::optional<RunnerIndex> runner_of_chip(std::string_view chip) const {
    return chips_.find(chip);
  }
  TimeMs gun_time(RunnerIndex r) const { return runners_[r].gun; }
  // The runner's own start: the start crossing, else the gun.
  TimeMs start_time(RunnerIndex r) const;
  // Durations at split `s` from the gun / from the runner's start; nullopt without a time.
  std::optional<DurationMs> gun_time_at(RunnerIndex r, std::size_t s) const;
  std::optional<DurationMs> chip_time_at(RunnerIndex r, std::size_t s) const;
  // The time ranking uses (gun or chip, per the race) at split `s`.
  std::optional<DurationMs> ranked_time_at(RunnerIndex r, std::size_t s) const;

  // Standings. Categories of a race: "overall", each gender letter present ("M", "F", "X"),
  // and each age group or category label present.
  static constexpr std::string_view kOverall = "overall";
  std::vector<std::string> categories(RaceIndex race) const;
  std::size_t ranked_count(RaceIndex race, std::string_view category) const;
  // Ranked runners in order, ranks offset+1 .. offset+limit.
  std::vector<RunnerIndex> standings(RaceIndex race, std::string_view category,
                                     std::size_t offset = 0, std::size_t limit = SIZE_MAX) const;
  // The groups a participant is ranked in: "overall", its gender, its age group or category.
  static std::vector<std::string> categories_of(const Participant& p);
  // The runner's key in its standings (smaller first), nullopt when not ranked.
  std::optional<RankKey> standing_key(RunnerIndex r) const;
  // 1-based rank in a category of the runner's race; 0 when not ranked there.
  std::uint32_t rank(RunnerIndex r, std::string_view category = kOverall) const;
  // 1-based rank at split `s` among the category's runners with a time there; 0 when none.
  std::uint32_t split_rank(RunnerIndex r, std::size_t s,
                           std::string_view category = kOverall) const;
  // The category's fastest runner at split `s` of the race (by rank_by); nullopt when nobody
  // has a time there yet.
  std::optional<RunnerIndex> split_leader(RaceIndex race, std::size_t s,
                                          std::string_view category = kOverall) const;
  // Behind the category's fastest runner at the runner's furthest split (by rank_by).
  std::optional<DurationMs> gap_to_leader(RunnerIndex r,
                                          std::string_view category = kOverall) const;

 private:
  // One category of one race: its runners ranked at each split. A runner's key is marked at its
  // furthest split, so the standings are the splits' marked keys, furthest split first.
  struct Group {
    std::vector<Ranking> splits;
  };
  using RunnerRead = CreditedRead;
  static constexpr std::size_t kMaxGroups = 3;  // overall, gender, age group or category
  // What every read touches comes first, to share cache lines: a read of a 60,000-runner field
  // is mostly waiting for memory.
  struct alignas(64) Runner {
    TimeMs gun = 0;
    RaceIndex race = 0;
    OfficialStatus official = OfficialStatus::none;
    bool in_rankings = false;  // its split times are in its groups' split rankings
    bool ranked = false;       // `key` is its standings key (marked in its groups' rankings)
    bool any_voids = false;    // !voids.empty(), without touching the vector's cache line
    CrossingSet crossings;
    std::vector<RunnerRead> reads;
    SplitAssignment assignment;
    RankKey key;
    std::array<Group*, kMaxGroups> group_slots{};  // the first ones; nullptr after them
    std::vector<VoidWindow> voids;

    std::span<Group* const> groups() const {
      std::size_t n = 0;
      while (n < kMaxGroups && group_slots[n] != nullptr)
        ++n;
      return {group_slots.data(), n};
    }
  };
  static_assert(sizeof(Runner) == 192, "a runner is three cache lines, the first one hot");
  struct RaceState {
    std::unordered_map<std::string, Group> groups;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StoredRead = ChipRead;

  enum class Prefetch : std::uint8_t { chip_slot, runner, runner_buffers };
  void prefetch(std::string_view chip, Prefetch what) const;
  // Credits a read to the runner.
  void keep_read(RunnerIndex r, const CreditedRead& read);
  ApplyResult apply_to_runner(RunnerIndex r, TimingPointIndex tp, TimeMs time);
  // Why a read of the runner does not count (applied: it does).
  ReadOutcome screen(RunnerIndex r, TimingPointIndex tp, TimeMs time) const;
  // Makes scratch_ the runner's assignment; changed_ gets the splits whose time moved.
  // True when its place in the standings moved.
  bool commit_assignment(RunnerIndex r);
  // The runner's crossings and splits from its kept reads, after a correction.
  RunnerChange rederive(RunnerIndex r);
  // Moves the runner's ranking entries from `before` (where it was in the rankings) to its
  // current assignment (if it takes part now).
  // `changed`: the splits whose time moved, all that can have changed when the runner stays in
  // (or out of) the rankings and its start did not move.
  void update_rankings(RunnerIndex r, const SplitAssignment& before, TimeMs start_before,
                       bool was_in, std::span<const std::uint16_t> changed);
  std::optional<DurationMs> ranked_time(RunnerIndex r, const SplitAssignment& a, std::size_t s,
                                        TimeMs start) const;
  bool participates(const Runner& runner) const { return runner.official == OfficialStatus::none; }
  const Group* group(RaceIndex race, std::string_view category) const;

  const Event& event_;
  std::vector<Runner> runners_;
  std::vector<RaceState> races_;
  std::vector<std::vector<bool>> on_course_;     // [race][timing point]
  std::vector<std::vector<bool>> last_rule_at_;  // [race][timing point]: a split counts last reads
  ChipIndex chips_;
  std::unordered_map<std::string, std::vector<StoredRead>, StringHash, std::equal_to<>> unknown_;
  EngineCounters counters_;
  SplitAssignment scratch_;
  std::vector<std::uint16_t> changed_;
};

}  // namespace splitstream
