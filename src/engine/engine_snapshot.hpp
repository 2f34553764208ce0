// What the engine keeps, as plain values: enough to build an engine equal to this one without
// the reads that made it (a node's checkpoint). The engine's state is a function of its kept
// reads, voids, official statuses and chip holders, so the rest (crossings, splits, rankings) is
// derived again on restore, by the same rules as corrections use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/race_engine.hpp"

namespace splitstream {

struct EngineSnapshot {
  // A chip whose holder is not the one the event gives it: moved by an official, or added by a
  // move. `id` is its ChipIndex id, which the reads below name.
  struct ChipHolder {
    std::uint32_t id = 0;
    std::string chip;
    RunnerIndex runner = ChipIndex::kNobody;  // kNobody: held by nobody

    friend bool operator==(const ChipHolder&, const ChipHolder&) = default;
  };
  // A runner with anything kept: reads, voids or an official status.
  struct RunnerRecord {
    RunnerIndex runner = kNoIndex;
    OfficialStatus official = OfficialStatus::none;
    std::vector<CreditedRead> reads;  // in the order they were credited
    std::vector<VoidWindow> voids;

    friend bool operator==(const RunnerRecord&, const RunnerRecord&) = default;
  };
  struct UnknownChip {
    std::string chip;
    std::vector<ChipRead> reads;  // in arrival order

    friend bool operator==(const UnknownChip&, const UnknownChip&) = default;
  };

  std::uint32_t chip_count = 0;       // ids in use: the event's chips and those added since
  std::vector<ChipHolder> holders;    // by id
  std::vector<RunnerRecord> runners;  // by runner
  std::vector<UnknownChip> unknown;   // by chip
  EngineCounters counters;

  friend bool operator==(const EngineSnapshot&, const EngineSnapshot&) = default;
};

// A fingerprint of everything in the event that the engine's state or the live outputs depend
// on (timing points, races, splits, waves, participants and their chips): a checkpoint is
// loaded only into an engine of the same event. 16 hex digits.
std::string event_fingerprint(const Event& event);

}  // namespace splitstream
