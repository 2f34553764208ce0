#include "pipeline/correction_log.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace splitstream {

RunnerSnapshot snapshot_runner(const RaceEngine& engine, RunnerIndex runner) {
  RunnerSnapshot s;
  s.status = engine.status(runner);
  const Race& race = engine.event().races[engine.event().participants[runner].race];
  for (std::size_t i = race.splits.size(); i-- > 0;) {
    if (auto t = engine.ranked_time_at(runner, i)) {
      s.last_split = race.splits[i].id;
      s.time = t;
      break;
    }
  }
  s.rank = engine.rank(runner);
  return s;
}

CorrectionRecord apply_and_record(RaceEngine& engine, const std::string& id, const Correction& c,
                                  CorrectionResult& result) {
  CorrectionRecord record;
  record.id = id;
  record.correction = c;
  record.recorded_ms = std::strtoll(id.c_str(), nullptr, 10);
  // The runners it may touch, seen before it applies: the bib's, and a moved chip's holder.
  const Event& event = engine.event();
  std::vector<RunnerIndex> touched;
  if (auto it = event.participant_by_bib.find(c.bib); it != event.participant_by_bib.end())
    touched.push_back(it->second);
  if (c.kind == CorrectionKind::move_chip) {
    const std::optional<RunnerIndex> holder = engine.runner_of_chip(c.chip);
    record.previous_holder = holder ? event.participants[*holder].bib : std::string();
    if (holder) touched.push_back(*holder);
  }
  if (c.kind == CorrectionKind::set_status && !touched.empty())
    record.previous_status = engine.official_status(touched.front());
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  std::vector<RunnerSnapshot> before;
  for (RunnerIndex r : touched)
    before.push_back(snapshot_runner(engine, r));

  result = apply_correction(engine, c);
  record.error = result.error;
  if (!result.error) {
    for (std::size_t i = 0; i < touched.size(); ++i)
      record.effect.push_back(
          {event.participants[touched[i]].bib, before[i], snapshot_runner(engine, touched[i])});
  }
  return record;
}

void CorrectionLog::add(CorrectionRecord record) {
  if (!record.error && !record.correction.undo_of.empty()) {
    if (CorrectionRecord* undone = find_mutable(record.correction.undo_of)) {
      undone->undone_by = record.id;
      // Undoing an undo puts the correction it took back in force again: undoable once more.
      if (!undone->correction.undo_of.empty()) {
        CorrectionRecord* restored = find_mutable(undone->correction.undo_of);
        if (restored && restored->undone_by == undone->id) restored->undone_by.clear();
      }
    }
  }
  records_.push_back(std::move(record));
  ++total_;
  while (records_.size() > kept_)
    records_.pop_front();
}

void CorrectionLog::restore(std::vector<CorrectionRecord> records, std::uint64_t total) {
  records_.assign(std::make_move_iterator(records.begin()), std::make_move_iterator(records.end()));
  while (records_.size() > kept_)
    records_.pop_front();
  total_ = std::max<std::uint64_t>(total, records_.size());
}

const CorrectionRecord* CorrectionLog::find(std::string_view id) const {
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->id == id) return &*it;
  }
  return nullptr;
}

CorrectionRecord* CorrectionLog::find_mutable(std::string_view id) {
  return const_cast<CorrectionRecord*>(std::as_const(*this).find(id));
}

}  // namespace splitstream
