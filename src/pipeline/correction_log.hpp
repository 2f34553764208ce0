// The officials' corrections this node's engine met in the stream, oldest first, with why one
// could not be applied, what it did to each runner it touched (before and after), and whether a
// later correction took it back. Lives on the engine strand, next to the engine; the admin API
// shows it. Every node builds the same log: it follows the same stream in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/corrections.hpp"

namespace splitstream {

// Where a runner stood: what the crew compares before and after a correction.
struct RunnerSnapshot {
  RunnerStatus status = RunnerStatus::not_started;
  std::string last_split;          // furthest split with a time; empty: none
  std::optional<DurationMs> time;  // the race's ranking time there
  std::uint32_t rank = 0;          // overall place; 0: not ranked

  friend bool operator==(const RunnerSnapshot&, const RunnerSnapshot&) = default;
};

RunnerSnapshot snapshot_runner(const RaceEngine& engine, RunnerIndex runner);

struct RunnerEffect {
  std::string bib;
  RunnerSnapshot before, after;
};

struct CorrectionRecord {
  std::string id;  // its stream entry
  Correction correction;
  std::optional<std::string> error;  // why the engine could not apply it
  TimeMs recorded_ms = 0;            // when it entered the stream (its id's time)
  // What an undo needs and the log shows: the chip's holder before a move_chip (empty: nobody),
  // the runner's official status before a set_status.
  std::optional<std::string> previous_holder;
  std::optional<OfficialStatus> previous_status;
  std::vector<RunnerEffect> effect;  // the runners it touched, when applied
  std::string undone_by;             // the stream entry of the correction that took it back
};

// Applies `c` (stream entry `id`) to the engine and returns its record, effect included.
CorrectionRecord apply_and_record(RaceEngine& engine, const std::string& id, const Correction& c,
                                  CorrectionResult& result);

class CorrectionLog {
 public:
  explicit CorrectionLog(std::size_t kept = 10'000) : kept_(kept) {}
  // Keeps the record; an applied undo marks the record it takes back (and an undo of an undo
  // clears the mark on the record the first one took back: it is in force again).
  void add(CorrectionRecord record);
  // The record of stream entry `id`, if kept.
  const CorrectionRecord* find(std::string_view id) const;
  // The records kept, oldest first.
  const std::deque<CorrectionRecord>& records() const { return records_; }
  std::uint64_t total() const { return total_; }
  // The log as a checkpoint kept it (records oldest first, `total` met in all).
  void restore(std::vector<CorrectionRecord> records, std::uint64_t total);

 private:
  CorrectionRecord* find_mutable(std::string_view id);

  std::size_t kept_;
  std::deque<CorrectionRecord> records_;
  std::uint64_t total_ = 0;
};

}  // namespace splitstream
