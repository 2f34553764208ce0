// Officials' corrections by name (bib, timing point, chip), checked against the event and the
// engine and applied to it. Pure: the server records each correction in the read stream and
// every node applies it here, in stream order, like a read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/race_engine.hpp"

namespace splitstream {

enum class CorrectionKind : std::uint8_t {
  set_status,     // DNF, DSQ, or back in the race (none)
  add_read,       // a read entered by hand
  void_reads,     // the runner's reads at a mat in a time window count for nothing
  restore_reads,  // takes a void back
  move_chip,      // a chip (and its reads) to another bib, or to nobody
};

// "set_status", "add_read", "void_reads", "restore_reads", "move_chip".
std::string_view to_string(CorrectionKind k);
std::optional<CorrectionKind> parse_correction_kind(std::string_view s);
// The name of every kind, in declaration order (the metrics register a series for each).
std::span<const std::string_view> correction_kind_names();
// "none", "dnf", "dsq".
std::string_view to_string(OfficialStatus s);
std::optional<OfficialStatus> parse_official_status(std::string_view s);

struct Correction {
  CorrectionKind kind = CorrectionKind::set_status;
  std::string bib;           // the runner; move_chip: the new holder (empty: nobody)
  std::string timing_point;  // add_read, void_reads, restore_reads
  TimeMs time = 0;           // add_read
  TimeMs from = 0, to = 0;   // void_reads, restore_reads (inclusive)
  std::string chip;          // move_chip
  OfficialStatus status = OfficialStatus::none;  // set_status
  std::string reason;                            // the official's words, kept with the correction
  std::string by;                                // who made it
  std::string undo_of;  // the stream entry of the correction this one takes back, if any

  friend bool operator==(const Correction&, const Correction&) = default;
};

// What is wrong with the correction for this event and this engine's state, naming the field
// (unknown bib, a timing point the runner's race does not pass, a window that ends before it
// starts, a restore with no such void, ...); nullopt when it can be applied.
std::optional<std::string> check_correction(const RaceEngine& engine, const Correction& c);

// Checks, then applies. On error nothing changed.
CorrectionResult apply_correction(RaceEngine& engine, const Correction& c);

}  // namespace splitstream
