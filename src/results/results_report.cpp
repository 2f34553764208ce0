#include "results/results_report.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "core/csv.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;

json::value optional_ms(const std::optional<DurationMs>& d) {
  return d ? json::value(*d) : json::value(nullptr);
}

bool in_category(const Participant& p, std::string_view category) {
  return category == RaceEngine::kOverall || category == to_string(p.gender) ||
         category == p.category;
}

// The runners a report lists for a race: none for a race left out.
std::vector<RunnerIndex> reported(const RaceEngine& engine, const ReportOptions& options,
                                  RaceIndex race) {
  const std::string& id = engine.event().races[race].id;
  if (std::find(options.left_out.begin(), options.left_out.end(), id) != options.left_out.end())
    return {};
  return report_order(engine, race, options.category);
}

}  // namespace

std::vector<RunnerIndex> report_order(const RaceEngine& engine, RaceIndex race,
                                      std::string_view category) {
  std::vector<RunnerIndex> order = engine.standings(race, category);
  std::vector<RunnerIndex> rest;
  const Event& event = engine.event();
  for (std::size_t i = 0; i < event.participants.size(); ++i) {
    const auto r = static_cast<RunnerIndex>(i);
    const Participant& p = event.participants[i];
    if (p.race != race || !in_category(p, category) || engine.rank(r, category) != 0) continue;
    rest.push_back(r);
  }
  // Unranked: DNF, then DSQ, then not started; by bib within each.
  auto weight = [&](RunnerIndex r) {
    switch (engine.status(r)) {
      case RunnerStatus::dnf:
        return 0;
      case RunnerStatus::dsq:
        return 1;
      default:
        return 2;
    }
  };
  std::sort(rest.begin(), rest.end(), [&](RunnerIndex a, RunnerIndex b) {
    if (weight(a) != weight(b)) return weight(a) < weight(b);
    return event.participants[a].bib < event.participants[b].bib;
  });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

json::value flag_json(const Race& race, const Flag& flag) {
  json::object o;
  if (flag.kind == FlagKind::missed_mats) {
    o["kind"] = "missed_mats";
    json::array splits;
    for (std::size_t s = flag.split_from; s <= flag.split_to; ++s)
      splits.push_back(json::value(race.splits[s].id));
    o["splits"] = std::move(splits);
  } else {
    o["kind"] = "implausible_split";
    o["split"] = race.splits[flag.split_from].id;
    o["time_ms"] = flag.time;
    o["speed_mps"] = std::isfinite(flag.speed_mps)
                         ? json::value(std::round(flag.speed_mps * 100.0) / 100.0)
                         : json::value(nullptr);
  }
  return o;
}

json::value results_json(const RaceEngine& engine, const ReportOptions& options) {
  const Event& event = engine.event();
  json::object doc;
  doc["event"] = event.id;
  json::array races;
  for (std::size_t ri = 0; ri < event.races.size(); ++ri) {
    const Race& race = event.races[ri];
    if (!options.race.empty() && options.race != race.id) continue;
    json::object jr;
    jr["id"] = race.id;
    jr["name"] = race.name;
    jr["category"] = options.category;
    jr["rank_by"] = to_string(race.rank_by);
    json::array rows;
    for (RunnerIndex r : reported(engine, options, static_cast<RaceIndex>(ri))) {
      const Participant& p = event.participants[r];
      const int f = engine.splits(r).furthest;
      json::object row;
      const std::uint32_t rank = engine.rank(r, options.category);
      row["rank"] = rank ? json::value(rank) : json::value(nullptr);
      row["bib"] = p.bib;
      row["name"] = p.display_name();
      row["gender"] = to_string(p.gender);
      row["category"] = p.category;
      row["country"] = p.country;
      row["status"] = to_string(engine.status(r));
      row["last_split"] =
          f >= 0 ? json::value(race.splits[static_cast<std::size_t>(f)].id) : json::value(nullptr);
      const auto fs = static_cast<std::size_t>(f);
      row["gun_time_ms"] = f >= 0 ? optional_ms(engine.gun_time_at(r, fs)) : json::value(nullptr);
      row["chip_time_ms"] = f >= 0 ? optional_ms(engine.chip_time_at(r, fs)) : json::value(nullptr);
      row["gap_ms"] = optional_ms(engine.gap_to_leader(r, options.category));
      const auto pace = pace_s_per_km(engine, r);
      row["pace_s_per_km"] = pace ? json::value(*pace) : json::value(nullptr);
      const std::uint32_t gender_rank = engine.rank(r, to_string(p.gender));
      row["gender_rank"] = gender_rank ? json::value(gender_rank) : json::value(nullptr);
      const std::uint32_t category_rank = p.category.empty() ? 0 : engine.rank(r, p.category);
      row["category_rank"] = category_rank ? json::value(category_rank) : json::value(nullptr);
      json::array splits;
      for (std::size_t s = 0; s < race.splits.size(); ++s) {
        if (engine.splits(r).times[s] == kNoTime) continue;
        const std::uint32_t split_rank = engine.split_rank(r, s, options.category);
        splits.push_back(
            json::object{{"id", race.splits[s].id},
                         {"gun_time_ms", optional_ms(engine.gun_time_at(r, s))},
                         {"chip_time_ms", optional_ms(engine.chip_time_at(r, s))},
                         {"rank", split_rank ? json::value(split_rank) : json::value(nullptr)}});
      }
      row["splits"] = std::move(splits);
      json::array flags;
      for (const Flag& flag : engine.splits(r).flags)
        flags.push_back(flag_json(race, flag));
      row["flags"] = std::move(flags);
      rows.push_back(std::move(row));
    }
    jr["standings"] = std::move(rows);
    races.push_back(std::move(jr));
  }
  doc["races"] = std::move(races);
  json::array unknown;
  for (const UnknownChipInfo& u : engine.unknown_chips()) {
    json::array tps;
    for (TimingPointIndex tp : u.timing_points)
      tps.push_back(json::value(event.timing_points[tp].id));
    unknown.push_back(
        json::object{{"chip", u.chip},
                     {"reads", u.reads},
                     {"first_seen", format_iso8601(u.first_seen, event.utc_offset_minutes)},
                     {"last_seen", format_iso8601(u.last_seen, event.utc_offset_minutes)},
                     {"timing_points", std::move(tps)}});
  }
  doc["unknown_chips"] = std::move(unknown);
  const EngineCounters& c = engine.counters();
  doc["reads"] = json::object{{"total", c.reads},
                              {"applied", c.applied},
                              {"duplicates", c.duplicates},
                              {"unknown_chip", c.unknown_chip},
                              {"not_on_course", c.not_on_course},
                              {"before_gun", c.before_gun}};
  return doc;
}

std::string results_csv(const RaceEngine& engine, const ReportOptions& options) {
  const Event& event = engine.event();
  // Split columns: the union of split ids, in the order they first appear.
  std::vector<std::string> split_ids;
  for (const Race& race : event.races) {
    if (!options.race.empty() && options.race != race.id) continue;
    for (const Split& s : race.splits) {
      if (std::find(split_ids.begin(), split_ids.end(), s.id) == split_ids.end())
        split_ids.push_back(s.id);
    }
  }
  std::string out =
      "race,rank,bib,name,gender,category,country,status,last_split,gun_time,chip_time,gap";
  for (const std::string& id : split_ids)
    out += "," + csv_escape(id);
  out += ",flags\n";
  for (std::size_t ri = 0; ri < event.races.size(); ++ri) {
    const Race& race = event.races[ri];
    if (!options.race.empty() && options.race != race.id) continue;
    for (RunnerIndex r : reported(engine, options, static_cast<RaceIndex>(ri))) {
      const Participant& p = event.participants[r];
      const int f = engine.splits(r).furthest;
      const std::uint32_t rank = engine.rank(r, options.category);
      auto duration = [](const std::optional<DurationMs>& d) {
        return d ? format_duration(*d) : std::string();
      };
      const auto fs = static_cast<std::size_t>(f);
      out += csv_escape(race.id) + "," + (rank ? std::to_string(rank) : "") + "," +
             csv_escape(p.bib) + "," + csv_escape(p.display_name()) + "," +
             std::string(to_string(p.gender)) + "," + csv_escape(p.category) + "," +
             csv_escape(p.country) + "," + std::string(to_string(engine.status(r))) + "," +
             (f >= 0 ? csv_escape(race.splits[fs].id) : "") + "," +
             (f >= 0 ? duration(engine.gun_time_at(r, fs)) : "") + "," +
             (f >= 0 ? duration(engine.chip_time_at(r, fs)) : "") + "," +
             duration(engine.gap_to_leader(r, options.category));
      for (const std::string& id : split_ids) {
        out += ",";
        for (std::size_t s = 0; s < race.splits.size(); ++s) {
          if (race.splits[s].id == id) out += duration(engine.ranked_time_at(r, s));
        }
      }
      std::string flags;
      for (const Flag& flag : engine.splits(r).flags) {
        if (!flags.empty()) flags += "; ";
        if (flag.kind == FlagKind::missed_mats) {
          flags += "missed mats " + race.splits[flag.split_from].id + ".." +
                   race.splits[flag.split_to].id;
        } else {
          flags += "implausible split " + race.splits[flag.split_from].id;
        }
      }
      out += "," + csv_escape(flags) + "\n";
    }
  }
  return out;
}

}  // namespace splitstream
