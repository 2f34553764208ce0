#include "engine/race_engine.hpp"

#include <algorithm>

namespace splitstream {

std::string_view to_string(RunnerStatus s) {
  switch (s) {
    case RunnerStatus::not_started:
      return "not_started";
    case RunnerStatus::running:
      return "running";
    case RunnerStatus::finished:
      return "finished";
    case RunnerStatus::dnf:
      return "dnf";
    case RunnerStatus::dsq:
      return "dsq";
  }
  return "unknown";
}

std::string_view to_string(ReadOutcome o) {
  switch (o) {
    case ReadOutcome::applied:
      return "applied";
    case ReadOutcome::duplicate:
      return "duplicate";
    case ReadOutcome::unknown_chip:
      return "unknown_chip";
    case ReadOutcome::not_on_course:
      return "not_on_course";
    case ReadOutcome::before_gun:
      return "before_gun";
    case ReadOutcome::voided:
      return "voided";
  }
  return "unknown";
}

RaceEngine::RaceEngine(const Event& event) : event_(event) {
  races_.resize(event.races.size());
  on_course_.resize(event.races.size());
  last_rule_at_.resize(event.races.size());
  for (std::size_t r = 0; r < event.races.size(); ++r) {
    const Race& race = event.races[r];
    on_course_[r].assign(event.timing_points.size(), false);
    last_rule_at_[r].assign(event.timing_points.size(), false);
    for (const Split& s : race.splits) {
      on_course_[r][s.timing_point] = true;
      if (s.read_rule == ReadRule::last) last_rule_at_[r][s.timing_point] = true;
    }
  }
  runners_.resize(event.participants.size());
  for (std::size_t i = 0; i < event.participants.size(); ++i) {
    const Participant& p = event.participants[i];
    Runner& runner = runners_[i];
    runner.race = p.race;
    runner.gun = event.gun_time_of(p);
    runner.assignment.times.assign(event.races[p.race].splits.size(), kNoTime);
    auto& groups = races_[p.race].groups;
    const std::size_t splits = event.races[p.race].splits.size();
    std::size_t group_count = 0;
    for (const std::string& name : categories_of(p)) {
      Group& g = groups[name];
      g.splits.resize(splits);
      runner.group_slots.at(group_count++) = &g;
    }
    for (const std::string& chip : p.chips)
      chips_.insert(chip, static_cast<RunnerIndex>(i));
  }
}

ApplyResult RaceEngine::apply(const Read& read) {
  ++counters_.reads;
  const auto entry = chips_.lookup(read.chip);
  if (!entry || entry->runner == ChipIndex::kNobody) {
    ++counters_.unknown_chip;
    auto u = unknown_.find(read.chip);
    if (u == unknown_.end())
      u = unknown_.emplace(std::string(read.chip), std::vector<StoredRead>{}).first;
    u->second.push_back({read.timing_point, read.time});
    return {ReadOutcome::unknown_chip, kNoIndex, false, {}};
  }
  keep_read(entry->runner, {read.time, read.timing_point, entry->id});
  return apply_to_runner(entry->runner, read.timing_point, read.time);
}

void RaceEngine::prefetch(std::string_view chip, Prefetch what) const {
  if (what == Prefetch::chip_slot) {
    chips_.prefetch(chip);
    return;
  }
  const auto entry = chips_.lookup(chip);
  if (!entry || entry->runner == ChipIndex::kNobody) return;
  const Runner& runner = runners_[entry->runner];
  if (what == Prefetch::runner) {
    __builtin_prefetch(&runner);  // its first cache line: what every read touches
    return;
  }
  __builtin_prefetch(runner.reads.data() + runner.reads.size(), 1);
  __builtin_prefetch(runner.crossings.items().data());
  __builtin_prefetch(runner.assignment.times.data());
}

ApplyResult RaceEngine::apply_manual(RunnerIndex r, TimingPointIndex tp, TimeMs time) {
  ++counters_.reads;
  keep_read(r, {time, tp, ChipIndex::kNobody});
  return apply_to_runner(r, tp, time);
}

void RaceEngine::keep_read(RunnerIndex r, const CreditedRead& read) {
  Runner& runner = runners_[r];
  auto& reads = runner.reads;
  const std::size_t splits = runner.assignment.times.size();
  const std::size_t room = std::min<std::size_t>(4 * splits, 1024);
  if (reads.size() == reads.capacity() && reads.size() < room) {
    // Room for four reads per split at once (two lines reading each crossing twice), instead of
    // a vector that reallocates and copies as it doubles, which cost a fifth of the engine's
    // time. Also for a runner restored from a checkpoint, whose reads were copied to size.
    reads.reserve(room);
    runner.crossings.reserve(splits + 2);
  }
  reads.push_back(read);
}

ReadOutcome RaceEngine::screen(RunnerIndex r, TimingPointIndex tp, TimeMs time) const {
  const Runner& runner = runners_[r];
  if (tp >= event_.timing_points.size() || !on_course_[runner.race][tp])
    return ReadOutcome::not_on_course;
  // Before the gun only the start mat counts: runners stand on it waiting.
  if (time < runner.gun && tp != event_.races[runner.race].start().timing_point)
    return ReadOutcome::before_gun;
  if (!runner.any_voids) return ReadOutcome::applied;
  for (const VoidWindow& v : runner.voids) {
    if (v.timing_point == tp && time >= v.from && time <= v.to) return ReadOutcome::voided;
  }
  return ReadOutcome::applied;
}

ApplyResult RaceEngine::apply_to_runner(RunnerIndex r, TimingPointIndex tp, TimeMs time) {
  Runner& runner = runners_[r];
  const Race& race = event_.races[runner.race];
  switch (screen(r, tp, time)) {
    case ReadOutcome::not_on_course:
      ++counters_.not_on_course;
      return {ReadOutcome::not_on_course, r, false, {}};
    case ReadOutcome::before_gun:
      ++counters_.before_gun;
      return {ReadOutcome::before_gun, r, false, {}};
    case ReadOutcome::voided:
      ++counters_.voided;
      return {ReadOutcome::voided, r, false, {}};
    default:
      break;
  }
  const auto change = runner.crossings.add(tp, time, event_.timing_points[tp].dedup_ms);
  if (change == CrossingSet::Change::none) {
    ++counters_.duplicates;
    return {ReadOutcome::duplicate, r, false, {}};
  }
  ++counters_.applied;
  // Only splits that count the last read look at a crossing's end.
  if (change == CrossingSet::Change::last_extended && !last_rule_at_[runner.race][tp]) {
    changed_.clear();
    return {ReadOutcome::applied, r, false, {}};
  }
  assign_splits(race, runner.gun, runner.crossings.items(), scratch_);
  const bool moved = commit_assignment(r);
  return {ReadOutcome::applied, r, moved, changed_};
}

bool RaceEngine::commit_assignment(RunnerIndex r) {
  Runner& runner = runners_[r];
  changed_.clear();
  if (scratch_ == runner.assignment) return false;
  const TimeMs start_before = start_time(r);
  std::swap(scratch_, runner.assignment);  // scratch_ now holds the state before
  for (std::size_t s = 0; s < runner.assignment.times.size(); ++s) {
    if (scratch_.times[s] != runner.assignment.times[s])
      changed_.push_back(static_cast<std::uint16_t>(s));
  }
  const RankKey key_before = runner.key;
  const bool ranked_before = runner.ranked;
  update_rankings(r, scratch_, start_before, runner.in_rankings, changed_);
  return ranked_before != runner.ranked || !(key_before == runner.key);
}

RunnerChange RaceEngine::rederive(RunnerIndex r) {
  const Participant& p = event_.participants[r];
  Runner& runner = runners_[r];
  runner.crossings.clear();
  for (const RunnerRead& read : runner.reads) {
    if (screen(r, read.timing_point, read.time) != ReadOutcome::applied) continue;
    runner.crossings.add(read.timing_point, read.time,
                         event_.timing_points[read.timing_point].dedup_ms);
  }
  assign_splits(event_.races[p.race], runner.gun, runner.crossings.items(), scratch_);
  const bool moved = commit_assignment(r);
  return {r, moved, changed_};
}

CorrectionResult RaceEngine::void_reads(RunnerIndex r, VoidWindow window) {
  if (window.from > window.to) return {"a void window ends before it starts", {}};
  if (window.timing_point >= event_.timing_points.size()) return {"no such timing point", {}};
  Runner& runner = runners_[r];
  if (std::find(runner.voids.begin(), runner.voids.end(), window) == runner.voids.end())
    runner.voids.push_back(window);
  runner.any_voids = true;
  return {std::nullopt, {rederive(r)}};
}

CorrectionResult RaceEngine::restore_reads(RunnerIndex r, VoidWindow window) {
  Runner& runner = runners_[r];
  const auto it = std::find(runner.voids.begin(), runner.voids.end(), window);
  if (it == runner.voids.end()) {
    return {"bib " + event_.participants[r].bib + " has no void of exactly that window", {}};
  }
  runner.voids.erase(it);
  runner.any_voids = !runner.voids.empty();
  return {std::nullopt, {rederive(r)}};
}

CorrectionResult RaceEngine::move_chip(std::string_view chip, RunnerIndex to) {
  if (chip.empty()) return {"empty chip", {}};
  if (to != kNoIndex && to >= runners_.size()) return {"no such runner", {}};
  const auto entry = chips_.lookup(chip);
  const RunnerIndex from = entry ? entry->runner : ChipIndex::kNobody;
  if (from == to) return {};
  const std::uint32_t id = chips_.assign(chip, to);
  CorrectionResult result;
  std::vector<RunnerRead> moving;
  if (from != ChipIndex::kNobody) {
    auto& reads = runners_[from].reads;
    const auto keep = std::stable_partition(reads.begin(), reads.end(),
                                            [id](const RunnerRead& r) { return r.chip != id; });
    moving.assign(keep, reads.end());
    reads.erase(keep, reads.end());
    result.changes.push_back(rederive(from));
  } else if (auto u = unknown_.find(chip); u != unknown_.end()) {
    for (const StoredRead& read : u->second)
      moving.push_back({read.time, read.timing_point, id});
    counters_.unknown_chip -= u->second.size();
    unknown_.erase(u);
  }
  if (to != ChipIndex::kNobody) {
    auto& reads = runners_[to].reads;
    reads.insert(reads.end(), moving.begin(), moving.end());
    result.changes.push_back(rederive(to));
  } else if (!moving.empty()) {
    auto& kept = unknown_[std::string(chip)];
    for (const RunnerRead& read : moving)
      kept.push_back({read.timing_point, read.time});
    counters_.unknown_chip += moving.size();
  }
  return result;
}

std::optional<DurationMs> RaceEngine::ranked_time(RunnerIndex r, const SplitAssignment& a,
                                                  std::size_t s, TimeMs start) const {
  if (a.times[s] == kNoTime) return std::nullopt;
  const Runner& runner = runners_[r];
  return a.times[s] - (event_.races[runner.race].rank_by == RankBy::chip ? start : runner.gun);
}

void RaceEngine::update_rankings(RunnerIndex r, const SplitAssignment& before, TimeMs start_before,
                                 bool was_in, std::span<const std::uint16_t> changed) {
  Runner& runner = runners_[r];
  const bool now_in = participates(runner);
  const TimeMs start_now = start_time(r);
  // Standings: furthest split first, then the time there. A late read that fills in an
  // earlier split leaves this key as it was.
  const int f = runner.assignment.furthest;
  const bool ranked = now_in && f >= 0;
  RankKey key;
  if (ranked) {
    key = {-f, *ranked_time(r, runner.assignment, static_cast<std::size_t>(f), start_now), r};
  }
  const bool key_moved = ranked != runner.ranked || (ranked && !(key == runner.key));
  // The key at the old furthest split loses its mark, the one at the new furthest split gets
  // it, unless the split loop below erases or inserts them anyway.
  bool unmark_before = runner.ranked && key_moved;
  bool mark_now = ranked && key_moved;
  const auto before_split = static_cast<std::size_t>(-runner.key.primary);
  const auto now_split = static_cast<std::size_t>(f);

  // Split rankings: only where the ranked time moved.
  // (Sentinels rather than optionals here: GCC 12 misreads optionals in this loop.)
  constexpr DurationMs kNone = INT64_MIN;
  const auto update_split = [&](std::size_t s) {
    const DurationMs old_t =
        was_in ? ranked_time(r, before, s, start_before).value_or(kNone) : kNone;
    const DurationMs new_t =
        now_in ? ranked_time(r, runner.assignment, s, start_now).value_or(kNone) : kNone;
    if (old_t == new_t) return;
    const bool mark = mark_now && s == now_split && new_t != kNone;
    for (Group* g : runner.groups()) {
      if (old_t != kNone) g->splits[s].erase({old_t, 0, r});
      if (new_t != kNone) g->splits[s].insert({new_t, 0, r}, mark);
    }
    if (mark) mark_now = false;
    if (unmark_before && s == before_split && old_t != kNone) unmark_before = false;
  };
  const bool same_start =
      start_before == start_now || event_.races[runner.race].rank_by == RankBy::gun;
  if (was_in == now_in && same_start) {
    for (const std::uint16_t s : changed)
      update_split(s);
  } else {
    for (std::size_t s = 0; s < runner.assignment.times.size(); ++s)
      update_split(s);
  }
  runner.in_rankings = now_in;

  for (Group* g : runner.groups()) {
    if (unmark_before) g->splits[before_split].set_marked({runner.key.secondary, 0, r}, false);
    if (mark_now) g->splits[now_split].set_marked({key.secondary, 0, r}, true);
  }
  runner.ranked = ranked;
  runner.key = key;
}

std::optional<std::string> RaceEngine::assign_chip(std::string_view chip, std::string_view bib) {
  auto p = event_.participant_by_bib.find(std::string(bib));
  if (p == event_.participant_by_bib.end()) return "unknown bib \"" + std::string(bib) + "\"";
  if (auto held = chips_.find(chip)) {
    return "chip \"" + std::string(chip) + "\" already belongs to bib " +
           event_.participants[*held].bib;
  }
  return move_chip(chip, p->second).error;
}

CorrectionResult RaceEngine::set_official_status(RunnerIndex r, OfficialStatus status) {
  Runner& runner = runners_[r];
  if (runner.official == status) return {std::nullopt, {{r, false, {}}}};
  const bool was_in = runner.in_rankings;
  const bool ranked_before = runner.ranked;
  const RankKey key_before = runner.key;
  runner.official = status;
  update_rankings(r, runner.assignment, start_time(r), was_in, {});
  const bool moved = ranked_before != runner.ranked || !(key_before == runner.key);
  return {std::nullopt, {{r, moved, {}}}};
}

RunnerStatus RaceEngine::status(RunnerIndex r) const {
  const Runner& runner = runners_[r];
  if (runner.official == OfficialStatus::dnf) return RunnerStatus::dnf;
  if (runner.official == OfficialStatus::dsq) return RunnerStatus::dsq;
  const int f = runner.assignment.furthest;
  if (f < 0) return RunnerStatus::not_started;
  if (static_cast<std::size_t>(f) + 1 == runner.assignment.times.size())
    return RunnerStatus::finished;
  return RunnerStatus::running;
}

TimeMs RaceEngine::start_time(RunnerIndex r) const {
  const Runner& runner = runners_[r];
  const TimeMs start = runner.assignment.times.empty() ? kNoTime : runner.assignment.times[0];
  return start != kNoTime ? start : runner.gun;
}

std::optional<DurationMs> RaceEngine::gun_time_at(RunnerIndex r, std::size_t s) const {
  const TimeMs t = runners_[r].assignment.times[s];
  if (t == kNoTime) return std::nullopt;
  return t - runners_[r].gun;
}

std::optional<DurationMs> RaceEngine::chip_time_at(RunnerIndex r, std::size_t s) const {
  const TimeMs t = runners_[r].assignment.times[s];
  if (t == kNoTime) return std::nullopt;
  return t - start_time(r);
}

std::optional<DurationMs> RaceEngine::ranked_time_at(RunnerIndex r, std::size_t s) const {
  return ranked_time(r, runners_[r].assignment, s, start_time(r));
}

std::vector<std::string> RaceEngine::categories_of(const Participant& p) {
  std::vector<std::string> out{std::string(kOverall), std::string(to_string(p.gender))};
  if (!p.category.empty()) out.push_back(p.category);
  return out;
}

std::optional<RankKey> RaceEngine::standing_key(RunnerIndex r) const {
  if (!runners_[r].ranked) return std::nullopt;
  return runners_[r].key;
}

std::vector<std::string> RaceEngine::categories(RaceIndex race) const {
  std::vector<std::string> out;
  for (const auto& [name, g] : races_[race].groups) {
    if (name != kOverall) out.push_back(name);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    // Genders (one letter) before age groups, then by name.
    if ((a.size() == 1) != (b.size() == 1)) return a.size() == 1;
    return a < b;
  });
  out.insert(out.begin(), std::string(kOverall));
  return out;
}

const RaceEngine::Group* RaceEngine::group(RaceIndex race, std::string_view category) const {
  auto it = races_[race].groups.find(std::string(category));
  return it == races_[race].groups.end() ? nullptr : &it->second;
}

std::size_t RaceEngine::ranked_count(RaceIndex race, std::string_view category) const {
  const Group* g = group(race, category);
  std::size_t count = 0;
  if (g) {
    for (const Ranking& split : g->splits)
      count += split.marked_count();
  }
  return count;
}

std::vector<RunnerIndex> RaceEngine::standings(RaceIndex race, std::string_view category,
                                               std::size_t offset, std::size_t limit) const {
  std::vector<RunnerIndex> out;
  if (const Group* g = group(race, category)) {
    // The furthest split's runners first.
    for (auto split = g->splits.rbegin(); split != g->splits.rend() && limit > 0; ++split) {
      if (offset >= split->marked_count()) {
        offset -= split->marked_count();
        continue;
      }
      limit -=
          split->for_each_marked(offset, limit, [&](const RankKey& k) { out.push_back(k.runner); });
      offset = 0;
    }
  }
  return out;
}

std::uint32_t RaceEngine::rank(RunnerIndex r, std::string_view category) const {
  const Runner& runner = runners_[r];
  if (!runner.ranked) return 0;
  const Group* g = group(event_.participants[r].race, category);
  if (!g) return 0;
  const auto f = static_cast<std::size_t>(-runner.key.primary);
  const std::uint32_t in_section = g->splits[f].marked_rank_of({runner.key.secondary, 0, r});
  if (in_section == 0) return 0;  // not in this category
  std::size_t further = 0;
  for (std::size_t s = f + 1; s < g->splits.size(); ++s)
    further += g->splits[s].marked_count();
  return static_cast<std::uint32_t>(further) + in_section;
}

std::uint32_t RaceEngine::split_rank(RunnerIndex r, std::size_t s,
                                     std::string_view category) const {
  if (!runners_[r].in_rankings) return 0;
  const auto t = ranked_time_at(r, s);
  const Group* g = group(event_.participants[r].race, category);
  if (!t || !g) return 0;
  return g->splits[s].rank_of({*t, 0, r});
}

std::optional<RunnerIndex> RaceEngine::split_leader(RaceIndex race, std::size_t s,
                                                    std::string_view category) const {
  const Group* g = group(race, category);
  if (!g || s >= g->splits.size() || g->splits[s].empty()) return std::nullopt;
  return g->splits[s].first().runner;
}

std::optional<DurationMs> RaceEngine::gap_to_leader(RunnerIndex r,
                                                    std::string_view category) const {
  const Runner& runner = runners_[r];
  const int f = runner.assignment.furthest;
  const Group* g = group(event_.participants[r].race, category);
  if (!runner.ranked || f < 0 || !g) return std::nullopt;
  const auto fs = static_cast<std::size_t>(f);
  const auto t = ranked_time_at(r, fs);
  if (!t || g->splits[fs].rank_of({*t, 0, r}) == 0) return std::nullopt;  // not in this category
  return *t - g->splits[fs].first().primary;
}

static_assert(sizeof(CreditedRead) == 16, "a credited read is 16 bytes (docs/architecture.md)");

std::span<const ChipRead> RaceEngine::unknown_chip_reads(std::string_view chip) const {
  const auto it = unknown_.find(chip);
  if (it == unknown_.end()) return {};
  return it->second;
}

std::vector<UnknownChipInfo> RaceEngine::unknown_chips() const {
  std::vector<UnknownChipInfo> out;
  for (const auto& [chip, reads] : unknown_) {
    UnknownChipInfo info{chip, reads.size(), reads.front().time, reads.front().time, {}};
    for (const StoredRead& read : reads) {
      info.first_seen = std::min(info.first_seen, read.time);
      info.last_seen = std::max(info.last_seen, read.time);
      if (std::find(info.timing_points.begin(), info.timing_points.end(), read.timing_point) ==
          info.timing_points.end()) {
        info.timing_points.push_back(read.timing_point);
      }
    }
    std::sort(info.timing_points.begin(), info.timing_points.end());
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const UnknownChipInfo& a, const UnknownChipInfo& b) { return a.chip < b.chip; });
  return out;
}

}  // namespace splitstream
