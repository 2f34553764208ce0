#include "engine/engine_snapshot.hpp"

#include <algorithm>
#include <cstdio>

namespace splitstream {
namespace {

// FNV-1a, 64 bits, over length-prefixed fields: a change of any field, or of where one ends,
// changes the fingerprint.
class Fingerprint {
 public:
  void add(std::string_view s) {
    add(static_cast<std::uint64_t>(s.size()));
    for (char c : s)
      byte(static_cast<unsigned char>(c));
  }
  void add(std::uint64_t n) {
    for (int i = 0; i < 8; ++i)
      byte(static_cast<unsigned char>(n >> (8 * i)));
  }
  void add(std::int64_t n) { add(static_cast<std::uint64_t>(n)); }
  void add(double d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6f", d);
    add(std::string_view(text));
  }
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  void byte(unsigned char b) {
    hash_ ^= b;
    hash_ *= 0x100000001b3ULL;
  }
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::string chip_problem(const std::string& chip, std::string_view what) {
  return "chip \"" + chip + "\": " + std::string(what);
}

}  // namespace

std::string event_fingerprint(const Event& event) {
  Fingerprint f;
  f.add(event.id);
  f.add(static_cast<std::int64_t>(event.utc_offset_minutes));
  f.add(static_cast<std::int64_t>(event.year));
  for (const TimingPoint& tp : event.timing_points) {
    f.add(tp.id);
    f.add(tp.name);
    f.add(static_cast<std::int64_t>(tp.read_rule ? static_cast<int>(*tp.read_rule) : -1));
    f.add(tp.dedup_ms);
  }
  f.add(std::string_view("races"));
  for (const Race& race : event.races) {
    f.add(race.id);
    f.add(race.name);
    f.add(race.gun_time);
    f.add(static_cast<std::uint64_t>(race.rank_by));
    f.add(race.max_speed_mps);
    for (const Split& s : race.splits) {
      f.add(s.id);
      f.add(static_cast<std::uint64_t>(s.timing_point));
      f.add(s.distance_m);
      f.add(static_cast<std::uint64_t>(s.read_rule));
      f.add(s.cutoff.value_or(-1));
    }
    f.add(std::string_view("waves"));
    for (const Wave& w : race.waves) {
      f.add(w.id);
      f.add(w.gun_time);
    }
  }
  f.add(std::string_view("participants"));
  for (const Participant& p : event.participants) {
    f.add(p.bib);
    f.add(static_cast<std::uint64_t>(p.chips.size()));
    for (const std::string& chip : p.chips)
      f.add(chip);
    f.add(p.first_name);
    f.add(p.last_name);
    f.add(static_cast<std::uint64_t>(p.gender));
    f.add(static_cast<std::int64_t>(p.birth_year));
    f.add(p.country);
    f.add(static_cast<std::uint64_t>(p.race));
    f.add(static_cast<std::uint64_t>(p.wave));
    f.add(p.category);
  }
  return f.hex();
}

EngineSnapshot RaceEngine::snapshot() const {
  EngineSnapshot out;
  out.chip_count = static_cast<std::uint32_t>(chips_.size());
  // Who held each chip when the engine was built: the first participant that lists it.
  std::vector<RunnerIndex> initial(chips_.size(), ChipIndex::kNobody);
  std::vector<bool> in_event(chips_.size(), false);
  for (RunnerIndex r = 0; r < event_.participants.size(); ++r) {
    for (const std::string& chip : event_.participants[r].chips) {
      const auto entry = chips_.lookup(chip);
      if (!entry || in_event[entry->id]) continue;
      in_event[entry->id] = true;
      initial[entry->id] = r;
    }
  }
  for (std::uint32_t id = 0; id < chips_.size(); ++id) {
    const std::string& chip = chips_.chip(id);
    const RunnerIndex holder = chips_.lookup(chip)->runner;
    if (!in_event[id] || holder != initial[id]) out.holders.push_back({id, chip, holder});
  }
  for (RunnerIndex r = 0; r < runners_.size(); ++r) {
    const Runner& runner = runners_[r];
    if (runner.reads.empty() && runner.voids.empty() && runner.official == OfficialStatus::none)
      continue;
    out.runners.push_back({r, runner.official, runner.reads, runner.voids});
  }
  for (const auto& [chip, reads] : unknown_)
    out.unknown.push_back({chip, reads});
  std::sort(out.unknown.begin(), out.unknown.end(),
            [](const auto& a, const auto& b) { return a.chip < b.chip; });
  out.counters = counters_;
  return out;
}

std::optional<std::string> RaceEngine::restore(const EngineSnapshot& s) {
  if (counters_.reads != 0 || !unknown_.empty() || chips_.size() > s.chip_count) {
    if (chips_.size() > s.chip_count) {
      return "the snapshot knows " + std::to_string(s.chip_count) + " chips, the event " +
             std::to_string(chips_.size());
    }
    return "the engine has been fed already";
  }
  for (const Runner& runner : runners_) {
    if (!runner.reads.empty() || !runner.voids.empty() || runner.official != OfficialStatus::none)
      return "the engine has been fed already";
  }
  const std::size_t timing_points = event_.timing_points.size();
  // The chips on a copy, so that an error leaves the engine as it was.
  ChipIndex chips = chips_;
  std::uint32_t last_id = 0;
  for (const EngineSnapshot::ChipHolder& h : s.holders) {
    if (&h != s.holders.data() && h.id <= last_id) return chip_problem(h.chip, "out of order");
    last_id = h.id;
    if (h.chip.empty()) return "a chip without a name";
    if (h.runner != ChipIndex::kNobody && h.runner >= runners_.size())
      return chip_problem(h.chip, "held by runner " + std::to_string(h.runner) + ", no such one");
    const auto entry = chips.lookup(h.chip);
    if (entry ? entry->id != h.id : h.id != chips.size())
      return chip_problem(h.chip, "its id " + std::to_string(h.id) + " does not fit this event");
    chips.assign(h.chip, h.runner);
  }
  if (chips.size() != s.chip_count) {
    return "the snapshot knows " + std::to_string(s.chip_count) + " chips, its holders make " +
           std::to_string(chips.size());
  }
  std::vector<RunnerIndex> holder_of(chips.size());
  for (std::uint32_t id = 0; id < chips.size(); ++id)
    holder_of[id] = chips.lookup(chips.chip(id))->runner;

  RunnerIndex previous = kNoIndex;
  for (const EngineSnapshot::RunnerRecord& record : s.runners) {
    const RunnerIndex r = record.runner;
    const std::string which = "runner " + std::to_string(r);
    if (r >= runners_.size()) return which + ": no such runner";
    if (previous != kNoIndex && r <= previous) return which + ": out of order";
    previous = r;
    if (record.official > OfficialStatus::dsq) return which + ": no such official status";
    for (const CreditedRead& read : record.reads) {
      if (read.timing_point >= timing_points) return which + ": a read at no timing point";
      if (read.chip != ChipIndex::kNobody &&
          (read.chip >= chips.size() || holder_of[read.chip] != r))
        return which + ": a read of a chip the runner does not hold";
    }
    for (const VoidWindow& v : record.voids) {
      if (v.timing_point >= timing_points || v.from > v.to) return which + ": a bad void window";
    }
  }
  const std::string* previous_chip = nullptr;
  std::uint64_t unknown_reads = 0;
  for (const EngineSnapshot::UnknownChip& u : s.unknown) {
    unknown_reads += u.reads.size();
    if (u.chip.empty() || u.reads.empty()) return "an unknown chip without a name or reads";
    if (previous_chip && u.chip <= *previous_chip) return chip_problem(u.chip, "out of order");
    previous_chip = &u.chip;
    if (chips.find(u.chip)) return chip_problem(u.chip, "kept as unknown but held by a runner");
    for (const ChipRead& read : u.reads) {
      if (read.timing_point >= timing_points)
        return chip_problem(u.chip, "a read at no timing point");
    }
  }

  // The engine counts every read it keeps for unknown chips, no more, no less.
  if (s.counters.unknown_chip != unknown_reads) {
    return "counts " + std::to_string(s.counters.unknown_chip) + " reads of unknown chips, keeps " +
           std::to_string(unknown_reads);
  }

  // It fits: take it, then derive each runner from what it keeps.
  chips_ = std::move(chips);
  for (const EngineSnapshot::UnknownChip& u : s.unknown)
    unknown_.emplace(u.chip, u.reads);
  counters_ = s.counters;
  for (const EngineSnapshot::RunnerRecord& record : s.runners) {
    Runner& runner = runners_[record.runner];
    runner.official = record.official;
    runner.reads = record.reads;
    runner.voids = record.voids;
    runner.any_voids = !runner.voids.empty();
    rederive(record.runner);
  }
  return std::nullopt;
}

}  // namespace splitstream
