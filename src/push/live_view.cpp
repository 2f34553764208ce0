#include "push/live_view.hpp"

#include <unordered_map>

#include "engine/projection.hpp"

namespace splitstream {

v1::RunnerStatus to_proto(RunnerStatus status) {
  switch (status) {
    case RunnerStatus::not_started:
      return v1::RUNNER_STATUS_NOT_STARTED;
    case RunnerStatus::running:
      return v1::RUNNER_STATUS_RUNNING;
    case RunnerStatus::finished:
      return v1::RUNNER_STATUS_FINISHED;
    case RunnerStatus::dnf:
      return v1::RUNNER_STATUS_DNF;
    case RunnerStatus::dsq:
      return v1::RUNNER_STATUS_DSQ;
  }
  return v1::RUNNER_STATUS_UNSPECIFIED;
}

namespace {

// Gun time at the finish: the actual one once there, else the time at split `s` plus the rest
// of the course at the runner's recent speed (running runners only).
std::int64_t projected_finish_ms(const RaceEngine& engine, RunnerIndex r, std::size_t s) {
  const Race& race = engine.event().races[engine.event().participants[r].race];
  const std::optional<DurationMs> at = engine.gun_time_at(r, s);
  if (!at) return 0;
  if (s + 1 == race.splits.size()) return *at;
  if (engine.status(r) != RunnerStatus::running) return 0;
  const double speed = recent_speed_mps(engine, r);
  if (speed <= 0) return 0;
  const double rest_m = race.splits.back().distance_m - race.splits[s].distance_m;
  return *at + static_cast<std::int64_t>(rest_m / speed * 1000.0);
}

// Split rank at the previous split credited minus the one at `s`; the start does not count
// (everybody is "first" to cross it on chip time).
std::int32_t rank_change_at(const RaceEngine& engine, RunnerIndex r, std::size_t s,
                            std::string_view category) {
  const SplitAssignment& a = engine.splits(r);
  for (std::size_t p = s; p-- > 1;) {
    if (a.times[p] == kNoTime) continue;
    const std::uint32_t before = engine.split_rank(r, p, category);
    const std::uint32_t now = engine.split_rank(r, s, category);
    if (before == 0 || now == 0) return 0;
    return static_cast<std::int32_t>(before) - static_cast<std::int32_t>(now);
  }
  return 0;
}

v1::StandingsRow make_row(const RaceEngine& engine, RunnerIndex r, std::string_view category,
                          std::uint32_t rank) {
  const Event& event = engine.event();
  const Participant& p = event.participants[r];
  const Race& race = event.races[p.race];
  v1::StandingsRow row;
  row.set_rank(rank);
  row.set_bib(p.bib);
  row.set_name(p.display_name());
  row.set_country(p.country);
  row.set_gender(std::string(to_string(p.gender)));
  row.set_category(p.category);
  row.set_status(to_proto(engine.status(r)));
  const int f = engine.splits(r).furthest;
  if (f >= 0) {
    const auto s = static_cast<std::size_t>(f);
    row.set_last_split_id(race.splits[s].id);
    row.set_gun_time_ms(engine.gun_time_at(r, s).value_or(0));
    row.set_chip_time_ms(engine.chip_time_at(r, s).value_or(0));
  }
  if (f >= 0) {
    const auto s = static_cast<std::size_t>(f);
    row.set_projected_finish_ms(projected_finish_ms(engine, r, s));
    row.set_rank_change(rank_change_at(engine, r, s, category));
  }
  row.set_gap_ms(engine.gap_to_leader(r, category).value_or(0));
  row.set_pace_s_per_km(static_cast<float>(pace_s_per_km(engine, r).value_or(0)));
  for (const Flag& flag : engine.splits(r).flags)
    row.add_flags(flag_label(race, flag));
  return row;
}

bool same_row(const v1::StandingsRow& a, const v1::StandingsRow& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace

v1::Passing make_passing(const RaceEngine& engine, RunnerIndex r, std::size_t split,
                         std::uint64_t version) {
  const Event& event = engine.event();
  const Participant& p = event.participants[r];
  const Race& race = event.races[p.race];
  v1::Passing passing;
  passing.set_bib(p.bib);
  passing.set_name(p.display_name());
  passing.set_country(p.country);
  passing.set_race_id(race.id);
  passing.set_split_id(race.splits[split].id);
  passing.set_timing_point_id(event.timing_points[race.splits[split].timing_point].id);
  passing.set_time_ms(engine.splits(r).times[split]);
  passing.set_gun_time_ms(engine.gun_time_at(r, split).value_or(0));
  passing.set_chip_time_ms(engine.chip_time_at(r, split).value_or(0));
  passing.set_rank(engine.split_rank(r, split));
  passing.set_version(version);
  return passing;
}

v1::StandingsSnapshot make_standings(const RaceEngine& engine, RaceIndex race,
                                     std::string_view category, std::uint32_t offset,
                                     std::uint32_t limit, std::uint64_t version) {
  v1::StandingsSnapshot page;
  page.set_race_id(engine.event().races[race].id);
  page.set_category_id(std::string(category));
  page.set_version(version);
  page.set_offset(offset);
  page.set_total(static_cast<std::uint32_t>(engine.ranked_count(race, category)));
  std::uint32_t rank = offset;
  for (RunnerIndex r : engine.standings(race, category, offset, limit))
    *page.add_rows() = make_row(engine, r, category, ++rank);
  return page;
}

v1::StandingsSnapshot make_standings_before_gun(const RaceEngine& engine, RaceIndex race,
                                                std::string_view category, std::uint32_t offset,
                                                std::uint64_t version) {
  v1::StandingsSnapshot page;
  page.set_race_id(engine.event().races[race].id);
  page.set_category_id(std::string(category));
  page.set_version(version);
  page.set_offset(offset);
  page.set_total(0);
  return page;
}

std::optional<v1::StandingsDelta> diff_standings(const v1::StandingsSnapshot& before,
                                                 const v1::StandingsSnapshot& after) {
  v1::StandingsDelta delta;
  delta.set_race_id(after.race_id());
  delta.set_category_id(after.category_id());
  delta.set_from_version(before.version());
  delta.set_to_version(after.version());
  delta.set_total(after.total());
  std::unordered_map<std::string_view, const v1::StandingsRow*> old_rows;
  for (const v1::StandingsRow& row : before.rows())
    old_rows.emplace(row.bib(), &row);
  for (const v1::StandingsRow& row : after.rows()) {
    auto it = old_rows.find(row.bib());
    if (it == old_rows.end() || !same_row(*it->second, row)) *delta.add_upserted() = row;
    if (it != old_rows.end()) old_rows.erase(it);
  }
  for (const v1::StandingsRow& row : before.rows()) {
    if (old_rows.contains(row.bib())) delta.add_removed_bibs(row.bib());
  }
  if (delta.upserted_size() == 0 && delta.removed_bibs_size() == 0 &&
      before.total() == after.total()) {
    return std::nullopt;
  }
  return delta;
}

v1::RunnerState make_runner_state(const RaceEngine& engine, RunnerIndex r) {
  const Event& event = engine.event();
  const Participant& p = event.participants[r];
  const Race& race = event.races[p.race];
  v1::RunnerState state;
  state.set_bib(p.bib);
  state.set_race_id(race.id);
  state.set_status(to_proto(engine.status(r)));
  const int f = engine.splits(r).furthest;
  if (f < 0) return state;
  const auto s = static_cast<std::size_t>(f);
  state.set_last_split_index(static_cast<std::uint32_t>(s));
  state.set_last_split_time_ms(engine.splits(r).times[s]);
  state.set_distance_m(race.splits[s].distance_m);
  const bool running = engine.status(r) == RunnerStatus::running;
  state.set_speed_mps(running ? static_cast<float>(recent_speed_mps(engine, r)) : 0.0f);
  state.set_next_split_distance_m(s + 1 < race.splits.size() ? race.splits[s + 1].distance_m
                                                             : race.splits[s].distance_m);
  return state;
}

v1::PassingBatch make_split_leaders(const RaceEngine& engine, RaceIndex race) {
  v1::PassingBatch batch;
  batch.set_snapshot(true);
  const std::size_t splits = engine.event().races[race].splits.size();
  for (std::size_t s = 0; s < splits; ++s) {
    if (auto leader = engine.split_leader(race, s))
      *batch.add_passings() = make_passing(engine, *leader, s, 0);
  }
  return batch;
}

namespace {

// Who the runner is, as every runner card starts.
v1::RunnerDetail runner_identity(const RaceEngine& engine, RunnerIndex r) {
  const Event& event = engine.event();
  const Participant& p = event.participants[r];
  v1::RunnerDetail d;
  d.set_bib(p.bib);
  d.set_name(p.display_name());
  d.set_country(p.country);
  d.set_gender(std::string(to_string(p.gender)));
  d.set_category(p.category);
  d.set_race_id(event.races[p.race].id);
  return d;
}

}  // namespace

v1::RunnerDetail make_runner_detail(const RaceEngine& engine, RunnerIndex r, TimeMs now) {
  const Event& event = engine.event();
  const Participant& p = event.participants[r];
  const Race& race = event.races[p.race];
  v1::RunnerDetail d = runner_identity(engine, r);
  d.set_status(to_proto(engine.status(r)));
  d.set_rank(engine.rank(r));
  d.set_gender_rank(engine.rank(r, to_string(p.gender)));
  if (!p.category.empty()) d.set_category_rank(engine.rank(r, p.category));
  const SplitAssignment& a = engine.splits(r);
  for (std::size_t s = 0; s < a.times.size(); ++s) {
    if (a.times[s] != kNoTime) *d.add_splits() = make_passing(engine, r, s, 0);
  }
  *d.mutable_state() = make_runner_state(engine, r);
  if (auto projection = project_runner(engine, r, now)) {
    for (std::size_t s = 0; s < projection->eta.size(); ++s) {
      if (projection->eta[s] == kNoTime) continue;
      v1::Eta* eta = d.add_etas();
      eta->set_split_id(race.splits[s].id);
      eta->set_time_ms(projection->eta[s]);
    }
  }
  d.set_pace_s_per_km(static_cast<float>(pace_s_per_km(engine, r).value_or(0)));
  d.set_gap_ms(engine.gap_to_leader(r).value_or(0));
  for (const Flag& flag : a.flags)
    d.add_flags(flag_label(race, flag));
  return d;
}

v1::RunnerDetail make_runner_detail_before_gun(const RaceEngine& engine, RunnerIndex r) {
  v1::RunnerDetail d = runner_identity(engine, r);
  d.set_status(v1::RUNNER_STATUS_NOT_STARTED);
  v1::RunnerState* state = d.mutable_state();
  state->set_bib(d.bib());
  state->set_race_id(d.race_id());
  state->set_status(v1::RUNNER_STATUS_NOT_STARTED);
  return d;
}

}  // namespace splitstream
