#include "pipeline/checkpoint.hpp"

#include <array>
#include <limits>

#include "engine/corrections.hpp"
#include "splitstream/v1/checkpoint.pb.h"

namespace splitstream {
namespace {

constexpr std::size_t kCounters = 7;

std::array<std::uint64_t*, kCounters> counter_fields(EngineCounters& c) {
  return {&c.reads,         &c.applied,    &c.duplicates, &c.unknown_chip,
          &c.not_on_course, &c.before_gun, &c.voided};
}

std::optional<RunnerStatus> parse_runner_status(std::string_view s) {
  for (RunnerStatus status : {RunnerStatus::not_started, RunnerStatus::running,
                              RunnerStatus::finished, RunnerStatus::dnf, RunnerStatus::dsq}) {
    if (to_string(status) == s) return status;
  }
  return std::nullopt;
}

void encode_runner_state(const RunnerSnapshot& s, v1::CheckpointRunnerState& out) {
  out.set_status(std::string(to_string(s.status)));
  out.set_last_split(s.last_split);
  out.set_has_time(s.time.has_value());
  out.set_time_ms(s.time.value_or(0));
  out.set_rank(s.rank);
}

bool decode_runner_state(const v1::CheckpointRunnerState& in, RunnerSnapshot& out) {
  const auto status = parse_runner_status(in.status());
  if (!status) return false;
  out.status = *status;
  out.last_split = in.last_split();
  if (in.has_time()) out.time = in.time_ms();
  out.rank = in.rank();
  return true;
}

void encode_correction(const CorrectionRecord& r, v1::CheckpointCorrection& out) {
  const Correction& c = r.correction;
  out.set_id(r.id);
  out.set_kind(std::string(to_string(c.kind)));
  out.set_bib(c.bib);
  out.set_timing_point(c.timing_point);
  out.set_time_ms(c.time);
  out.set_from_ms(c.from);
  out.set_to_ms(c.to);
  out.set_chip(c.chip);
  out.set_status(std::string(to_string(c.status)));
  out.set_reason(c.reason);
  out.set_by(c.by);
  out.set_undo_of(c.undo_of);
  out.set_has_error(r.error.has_value());
  out.set_error(r.error.value_or(""));
  out.set_recorded_ms(r.recorded_ms);
  out.set_has_previous_holder(r.previous_holder.has_value());
  out.set_previous_holder(r.previous_holder.value_or(""));
  out.set_has_previous_status(r.previous_status.has_value());
  out.set_previous_status(std::string(to_string(r.previous_status.value_or(OfficialStatus::none))));
  for (const RunnerEffect& e : r.effect) {
    v1::CheckpointRunnerEffect& effect = *out.add_effect();
    effect.set_bib(e.bib);
    encode_runner_state(e.before, *effect.mutable_before());
    encode_runner_state(e.after, *effect.mutable_after());
  }
  out.set_undone_by(r.undone_by);
}

std::optional<std::string> decode_correction(const v1::CheckpointCorrection& in,
                                             CorrectionRecord& out) {
  const auto kind = parse_correction_kind(in.kind());
  if (!kind) return "a correction of no known kind \"" + in.kind() + "\"";
  const auto status = parse_official_status(in.status());
  const auto previous_status = parse_official_status(in.previous_status());
  if (!status || !previous_status) return "correction " + in.id() + ": no such official status";
  Correction& c = out.correction;
  out.id = in.id();
  c.kind = *kind;
  c.bib = in.bib();
  c.timing_point = in.timing_point();
  c.time = in.time_ms();
  c.from = in.from_ms();
  c.to = in.to_ms();
  c.chip = in.chip();
  c.status = *status;
  c.reason = in.reason();
  c.by = in.by();
  c.undo_of = in.undo_of();
  if (in.has_error()) out.error = in.error();
  out.recorded_ms = in.recorded_ms();
  if (in.has_previous_holder()) out.previous_holder = in.previous_holder();
  if (in.has_previous_status()) out.previous_status = *previous_status;
  for (const v1::CheckpointRunnerEffect& e : in.effect()) {
    RunnerEffect effect;
    effect.bib = e.bib();
    if (!decode_runner_state(e.before(), effect.before) ||
        !decode_runner_state(e.after(), effect.after))
      return "correction " + in.id() + ": a runner state of no known status";
    out.effect.push_back(std::move(effect));
  }
  out.undone_by = in.undone_by();
  return std::nullopt;
}

void encode_engine(const EngineSnapshot& s, v1::CheckpointEngine& out) {
  out.set_chip_count(s.chip_count);
  for (const EngineSnapshot::ChipHolder& h : s.holders) {
    v1::CheckpointChip& chip = *out.add_holders();
    chip.set_id(h.id);
    chip.set_chip(h.chip);
    chip.set_runner(h.runner == ChipIndex::kNobody ? 0 : h.runner + 1);
  }
  for (const EngineSnapshot::RunnerRecord& r : s.runners) {
    v1::CheckpointRunner& runner = *out.add_runners();
    runner.set_runner(r.runner);
    runner.set_official(static_cast<std::uint32_t>(r.official));
    runner.mutable_read_time_deltas()->Reserve(static_cast<int>(r.reads.size()));
    runner.mutable_read_timing_points()->Reserve(static_cast<int>(r.reads.size()));
    runner.mutable_read_chips()->Reserve(static_cast<int>(r.reads.size()));
    TimeMs previous = 0;
    for (const CreditedRead& read : r.reads) {
      // Wrapping arithmetic: any two times, however far apart, encode and decode exactly.
      runner.add_read_time_deltas(static_cast<std::int64_t>(static_cast<std::uint64_t>(read.time) -
                                                            static_cast<std::uint64_t>(previous)));
      previous = read.time;
      runner.add_read_timing_points(read.timing_point);
      runner.add_read_chips(read.chip == ChipIndex::kNobody ? 0 : read.chip + 1);
    }
    for (const VoidWindow& v : r.voids) {
      v1::CheckpointVoid& window = *runner.add_voids();
      window.set_timing_point(v.timing_point);
      window.set_from_ms(v.from);
      window.set_to_ms(v.to);
    }
  }
  for (const EngineSnapshot::UnknownChip& u : s.unknown) {
    v1::CheckpointUnknownChip& chip = *out.add_unknown();
    chip.set_chip(u.chip);
    for (const ChipRead& read : u.reads) {
      chip.add_timing_points(read.timing_point);
      chip.add_times_ms(read.time);
    }
  }
  EngineCounters counters = s.counters;
  for (std::uint64_t* c : counter_fields(counters))
    out.add_counters(*c);
}

std::optional<std::string> decode_engine(const v1::CheckpointEngine& in, EngineSnapshot& out) {
  out.chip_count = in.chip_count();
  for (const v1::CheckpointChip& h : in.holders()) {
    out.holders.push_back(
        {h.id(), h.chip(), h.runner() == 0 ? ChipIndex::kNobody : h.runner() - 1});
  }
  out.runners.reserve(static_cast<std::size_t>(in.runners_size()));
  for (const v1::CheckpointRunner& r : in.runners()) {
    const int reads = r.read_time_deltas_size();
    if (r.read_timing_points_size() != reads || r.read_chips_size() != reads)
      return "runner " + std::to_string(r.runner()) + ": read columns of different lengths";
    if (r.official() > static_cast<std::uint32_t>(OfficialStatus::dsq))
      return "runner " + std::to_string(r.runner()) + ": no such official status";
    EngineSnapshot::RunnerRecord record;
    record.runner = r.runner();
    record.official = static_cast<OfficialStatus>(r.official());
    record.reads.reserve(static_cast<std::size_t>(reads));
    std::uint64_t time = 0;
    for (int i = 0; i < reads; ++i) {
      time += static_cast<std::uint64_t>(r.read_time_deltas(i));
      const std::uint32_t chip = r.read_chips(i);
      record.reads.push_back({static_cast<TimeMs>(time), r.read_timing_points(i),
                              chip == 0 ? ChipIndex::kNobody : chip - 1});
    }
    for (const v1::CheckpointVoid& v : r.voids())
      record.voids.push_back({v.timing_point(), v.from_ms(), v.to_ms()});
    out.runners.push_back(std::move(record));
  }
  for (const v1::CheckpointUnknownChip& u : in.unknown()) {
    if (u.timing_points_size() != u.times_ms_size())
      return "unknown chip \"" + u.chip() + "\": read columns of different lengths";
    EngineSnapshot::UnknownChip chip;
    chip.chip = u.chip();
    for (int i = 0; i < u.times_ms_size(); ++i)
      chip.reads.push_back({u.timing_points(i), u.times_ms(i)});
    out.unknown.push_back(std::move(chip));
  }
  if (static_cast<std::size_t>(in.counters_size()) != kCounters)
    return "engine counters: " + std::to_string(in.counters_size()) + ", expected 7";
  std::size_t i = 0;
  for (std::uint64_t* c : counter_fields(out.counters))
    *c = in.counters(static_cast<int>(i++));
  return std::nullopt;
}

}  // namespace

std::string encode_checkpoint(const NodeCheckpoint& checkpoint) {
  v1::Checkpoint out;
  out.set_format(kCheckpointFormat);
  out.set_event_fingerprint(checkpoint.event_fingerprint);
  out.set_stream_id(checkpoint.stream_id);
  out.set_entries(checkpoint.entries);
  out.set_applied(checkpoint.applied);
  out.set_skipped(checkpoint.skipped);
  encode_engine(checkpoint.engine, *out.mutable_engine());
  v1::CheckpointHub& hub = *out.mutable_hub();
  hub.set_version(checkpoint.hub.version);
  hub.set_race_clock_ms(checkpoint.hub.race_clock);
  hub.set_passings_floor(checkpoint.hub.passings_floor);
  for (const v1::Passing& p : checkpoint.hub.passings)
    *hub.add_passings() = p;
  for (bool hidden : checkpoint.hub.hidden_races)
    hub.add_hidden_races(hidden);
  for (const CorrectionRecord& r : checkpoint.corrections)
    encode_correction(r, *out.add_corrections());
  out.set_corrections_total(checkpoint.corrections_total);
  return out.SerializeAsString();
}

std::optional<NodeCheckpoint> decode_checkpoint(std::string_view bytes, std::string& error) {
  v1::Checkpoint in;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    error = "not a checkpoint (" + std::to_string(bytes.size()) + " bytes that do not parse)";
    return std::nullopt;
  }
  if (in.format() != kCheckpointFormat) {
    error = "a checkpoint of format " + std::to_string(in.format()) + ", this node reads " +
            std::to_string(kCheckpointFormat);
    return std::nullopt;
  }
  const auto dash = in.stream_id().find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == in.stream_id().size() ||
      in.stream_id().find_first_not_of("0123456789-") != std::string::npos ||
      in.stream_id().find('-', dash + 1) != std::string::npos) {
    error = "checkpoint: \"" + in.stream_id() + "\" is not a stream entry id";
    return std::nullopt;
  }
  NodeCheckpoint out;
  out.event_fingerprint = in.event_fingerprint();
  out.stream_id = in.stream_id();
  out.entries = in.entries();
  out.applied = in.applied();
  out.skipped = in.skipped();
  if (auto problem = decode_engine(in.engine(), out.engine)) {
    error = *problem;
    return std::nullopt;
  }
  out.hub.version = in.hub().version();
  out.hub.race_clock = in.hub().race_clock_ms();
  out.hub.passings_floor = in.hub().passings_floor();
  out.hub.passings.assign(in.hub().passings().begin(), in.hub().passings().end());
  out.hub.hidden_races.assign(in.hub().hidden_races().begin(), in.hub().hidden_races().end());
  for (const v1::CheckpointCorrection& c : in.corrections()) {
    CorrectionRecord record;
    if (auto problem = decode_correction(c, record)) {
      error = *problem;
      return std::nullopt;
    }
    out.corrections.push_back(std::move(record));
  }
  out.corrections_total = in.corrections_total();
  return out;
}

}  // namespace splitstream
