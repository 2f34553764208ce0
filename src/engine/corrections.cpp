#include "engine/corrections.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace splitstream {
namespace {

constexpr std::array<std::pair<CorrectionKind, std::string_view>, 5> kKinds{{
    {CorrectionKind::set_status, "set_status"},
    {CorrectionKind::add_read, "add_read"},
    {CorrectionKind::void_reads, "void_reads"},
    {CorrectionKind::restore_reads, "restore_reads"},
    {CorrectionKind::move_chip, "move_chip"},
}};

constexpr auto kKindNames = [] {
  std::array<std::string_view, kKinds.size()> names{};
  for (std::size_t i = 0; i < kKinds.size(); ++i)
    names[i] = kKinds[i].second;
  return names;
}();

constexpr std::array<std::pair<OfficialStatus, std::string_view>, 3> kStatuses{{
    {OfficialStatus::none, "none"},
    {OfficialStatus::dnf, "dnf"},
    {OfficialStatus::dsq, "dsq"},
}};

// The runner of `bib`, or an error naming it.
std::optional<RunnerIndex> runner_of(const Event& event, const std::string& bib,
                                     std::string& error) {
  if (bib.empty()) {
    error = "bib is required";
    return std::nullopt;
  }
  const auto it = event.participant_by_bib.find(bib);
  if (it == event.participant_by_bib.end()) {
    error = "unknown bib \"" + bib + "\"";
    return std::nullopt;
  }
  return it->second;
}

// The timing point, which must be on the runner's course, or an error naming it.
std::optional<TimingPointIndex> mat_of(const Event& event, RunnerIndex r, const std::string& id,
                                       std::string& error) {
  if (id.empty()) {
    error = "timing_point is required";
    return std::nullopt;
  }
  const auto tp = event.find_timing_point(id);
  if (!tp) {
    error = "unknown timing point \"" + id + "\"";
    return std::nullopt;
  }
  const Participant& p = event.participants[r];
  const Race& race = event.races[p.race];
  if (std::find(race.timing_points.begin(), race.timing_points.end(), *tp) ==
      race.timing_points.end()) {
    error = "timing point \"" + id + "\" is not on the course of bib " + p.bib + " (race " +
            race.id + ")";
    return std::nullopt;
  }
  return tp;
}

}  // namespace

std::string_view to_string(CorrectionKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "unknown";
}

std::span<const std::string_view> correction_kind_names() {
  return kKindNames;
}

std::optional<CorrectionKind> parse_correction_kind(std::string_view s) {
  for (const auto& [kind, name] : kKinds) {
    if (name == s) return kind;
  }
  return std::nullopt;
}

std::string_view to_string(OfficialStatus s) {
  for (const auto& [status, name] : kStatuses) {
    if (status == s) return name;
  }
  return "unknown";
}

std::optional<OfficialStatus> parse_official_status(std::string_view s) {
  for (const auto& [status, name] : kStatuses) {
    if (name == s) return status;
  }
  return std::nullopt;
}

std::optional<std::string> check_correction(const RaceEngine& engine, const Correction& c) {
  const Event& event = engine.event();
  std::string error;
  if (c.kind == CorrectionKind::move_chip) {
    if (c.chip.empty()) return "chip is required";
    if (!c.bib.empty() && !runner_of(event, c.bib, error)) return error;
    return std::nullopt;
  }
  const auto r = runner_of(event, c.bib, error);
  if (!r) return error;
  switch (c.kind) {
    case CorrectionKind::set_status:
      return std::nullopt;
    case CorrectionKind::add_read:
      if (!mat_of(event, *r, c.timing_point, error)) return error;
      if (c.time < engine.gun_time(*r) &&
          *event.find_timing_point(c.timing_point) !=
              event.races[event.participants[*r].race].start().timing_point) {
        return "time is before the gun of bib " + c.bib + ": only the start mat counts then";
      }
      return std::nullopt;
    case CorrectionKind::void_reads:
    case CorrectionKind::restore_reads: {
      const auto tp = mat_of(event, *r, c.timing_point, error);
      if (!tp) return error;
      if (c.from > c.to) return "the window ends (to) before it starts (from)";
      if (c.kind == CorrectionKind::restore_reads) {
        const auto voids = engine.voids(*r);
        if (std::find(voids.begin(), voids.end(), VoidWindow{*tp, c.from, c.to}) == voids.end())
          return "bib " + c.bib + " has no void of exactly that window at " + c.timing_point;
      }
      return std::nullopt;
    }
    case CorrectionKind::move_chip:
      break;
  }
  return std::nullopt;
}

CorrectionResult apply_correction(RaceEngine& engine, const Correction& c) {
  if (auto error = check_correction(engine, c)) return {std::move(error), {}};
  const Event& event = engine.event();
  const auto runner = [&]() -> RunnerIndex {
    return c.bib.empty() ? kNoIndex : event.participant_by_bib.at(c.bib);
  };
  switch (c.kind) {
    case CorrectionKind::set_status:
      return engine.set_official_status(runner(), c.status);
    case CorrectionKind::add_read: {
      const RunnerIndex r = runner();
      const ApplyResult applied =
          engine.apply_manual(r, *event.find_timing_point(c.timing_point), c.time);
      RunnerChange change{r,
                          applied.standing_changed,
                          {applied.changed_splits.begin(), applied.changed_splits.end()}};
      return {std::nullopt, {std::move(change)}};
    }
    case CorrectionKind::void_reads:
      return engine.void_reads(runner(), {*event.find_timing_point(c.timing_point), c.from, c.to});
    case CorrectionKind::restore_reads:
      return engine.restore_reads(runner(),
                                  {*event.find_timing_point(c.timing_point), c.from, c.to});
    case CorrectionKind::move_chip:
      return engine.move_chip(c.chip, runner());
  }
  return {"unknown correction", {}};
}

}  // namespace splitstream
